/**
 * Renders every case of test/fixtures/jinja-corpus/cases.json with our engine and asserts the
 * exact output Jinja2 3.1 gave (configured like dbt). Error cases must fail with the same
 * Python exception message.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Environment, TemplateRuntimeError, TemplateSyntaxError } from '../../../app/transform/jinja';

interface Case {
  name: string;
  template: string;
  context: Record<string, unknown>;
  expected?: string;
  error?: string;
  message?: string;
  /** The template line Jinja2 reports for the error. */
  line?: number;
}

const cases = JSON.parse(
  readFileSync(path.join(import.meta.dirname, '../../fixtures/jinja-corpus/cases.json'), 'utf8'),
) as Case[];

const env = new Environment();

test('the corpus is large enough to mean something', () => {
  assert.ok(cases.length >= 150, `only ${cases.length} cases`);
});

for (const c of cases) {
  test(`corpus: ${c.name}`, async () => {
    if (c.error === undefined) {
      const out = await env.parse(c.template, c.name).render(structuredClone(c.context));
      assert.equal(out, c.expected);
      return;
    }
    await assert.rejects(
      async () => env.parse(c.template, c.name).render(structuredClone(c.context)),
      (e: unknown) => {
        assert.ok(
          e instanceof TemplateSyntaxError || e instanceof TemplateRuntimeError,
          `unexpected error type: ${String(e)}`,
        );
        if (c.error === 'TemplateSyntaxError') {
          assert.ok(e instanceof TemplateSyntaxError, `expected a syntax error, got ${String(e)}`);
          assert.equal(e.detail, c.message);
          assert.equal(e.line, c.line);
          return true;
        }
        const firstSentence = (c.message ?? '').split(' (<')[0]?.split('. Jinja')[0] ?? '';
        assert.ok(
          e.detail.includes(firstSentence),
          `message ${JSON.stringify(e.detail)} lacks ${JSON.stringify(firstSentence)}`,
        );
        if (typeof c.line === 'number') assert.equal(e.line, c.line, 'error line');
        return true;
      },
    );
  });
}
