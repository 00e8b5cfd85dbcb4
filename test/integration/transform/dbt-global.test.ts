import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase } from '../../support/postgres';
import { inlineRenderer } from '../../support/render-inline';

/**
 * dbt's global project and context against the oracle: every `{{ call }}` in
 * test/fixtures/dbt-global/oracle.json renders exactly as dbt-core 1.10 + dbt-postgres rendered it
 * (cross-database macros with their whitespace, data types, api.Column, relations, run_query's
 * agate table, modules.re/datetime/pytz, tojson, zip, as_bool/as_number…).
 */
const ORACLE = JSON.parse(readFileSync(path.join(__dirname, '../../fixtures/dbt-global/oracle.json'), 'utf8')) as { cases: { call: string; expected: string }[] };
const normalise = (s: string): string => s.replace(/(__dbt_tmp|__x)\d{12}/g, '$1<time>');

describe('dbt global project and context (oracle: dbt-core 1.10 + dbt-postgres)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let r: Awaited<ReturnType<typeof inlineRenderer>>;
  before(async () => {
    db = await createTestDatabase('tglob');
    const dir = mkdtempSync(path.join(tmpdir(), 'cht-glob-'));
    writeFileSync(path.join(dir, 'dbt_project.yml'), "name: 'probe'\nversion: '1'\nconfig-version: 2\n");
    r = await inlineRenderer(dir, db.url, db.name);
  });
  after(async () => {
    await r.close();
    await db.drop();
  });

  it(`renders all ${ORACLE.cases.length} recorded calls as dbt does`, async () => {
    const wrong: string[] = [];
    for (const c of ORACLE.cases) {
      let got: string;
      try {
        got = await r.render(`{{ ${c.call} }}`);
      } catch (error) {
        got = `ERROR ${(error as Error).message}`;
      }
      if (normalise(got) !== normalise(c.expected)) wrong.push(`${c.call}\n  dbt: ${JSON.stringify(c.expected)}\n  we:  ${JSON.stringify(got)}`);
    }
    assert.deepEqual(wrong, []);
  });

  it("a project's own macro overrides the global one, unqualified and through dispatch", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cht-glob-'));
    writeFileSync(path.join(dir, 'dbt_project.yml'), "name: 'over'\nversion: '1'\nconfig-version: 2\nmacro-paths: ['macros']\n");
    const { mkdirSync } = await import('node:fs');
    mkdirSync(path.join(dir, 'macros'));
    writeFileSync(path.join(dir, 'macros', 'm.sql'), "{% macro postgres__any_value(e) %}first({{ e }}){% endmacro %}\n{% macro type_string() %}varchar{% endmacro %}");
    const o = await inlineRenderer(dir, db.url, db.name);
    try {
      assert.equal(await o.render("{{ dbt.any_value('x') }}|{{ type_string() }}|{{ dbt.type_string() }}"), 'first(x)|varchar|TEXT');
    } finally {
      await o.close();
    }
  });
});
