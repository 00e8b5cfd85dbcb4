/**
 * Loading, parsing and the macro registry yield to the event loop (core/time-slicer.ts) and keep
 * what they parsed for the next run, without changing a single rendered byte or recorded fact.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { silentLogger } from '../../../app/core/logger';
import { TimeSlicer } from '../../../app/core/time-slicer';
import { computeFingerprints } from '../../../app/transform/compile/fingerprint';
import { ProjectCompiler } from '../../../app/transform/compile/project-compiler';
import type { CompilerOptions } from '../../../app/transform/compile/compiler-host';
import { MacroRegistry, stripSource } from '../../../app/transform/context/macro-registry';
import { buildGraph } from '../../../app/transform/graph/build-graph';
import type { ModelNode } from '../../../app/transform/graph/types';
import { loadProject } from '../../../app/transform/project/load-project';
import { readYamlFile, readYamlFileSliced } from '../../../app/transform/project/project-file';
import { writeSyntheticProject } from '../../support/synthetic-dbt-project';

function options(project: CompilerOptions['project'], slicer?: TimeSlicer): CompilerOptions {
  return {
    project,
    target: {
      name: 'default',
      schema: 'v1',
      database: 'db',
      type: 'postgres',
      threads: 1,
      user: 'u',
      host: 'h',
      port: 5432,
      dbname: 'db',
    },
    env: { POSTGRES_DB: 'db', POSTGRES_SCHEMA: 'v1', POSTGRES_TABLE: 'couchdb' },
    cliVars: {},
    invocationId: 'i',
    runStartedAt: '2026-12-06T00:00:00Z',
    fullRefresh: false,
    logger: silentLogger,
    ...(slicer ? { slicer } : {}),
  };
}

/** What parsing recorded of each node, as comparable plain data. */
function facts(nodes: ModelNode[]): unknown[] {
  const graph = buildGraph(nodes.filter((n) => n.config.enabled !== false));
  computeFingerprints(graph);
  return [...graph.nodes.values()].map((n) => ({
    id: n.uniqueId,
    sql: n.parsedSql,
    config: n.config,
    materialized: n.materialized,
    refs: n.refs,
    sources: n.sources,
    macros: n.macroSources,
    error: n.parseError?.message ?? null,
    fingerprint: n.fingerprint,
  }));
}

/** Counts event-loop turns (setImmediate callbacks) that run while `work` does. */
async function turnsDuring<T>(work: () => Promise<T>): Promise<{ value: T; turns: number }> {
  let turns = 0;
  let on = true;
  const spin = (): void => {
    if (!on) return;
    turns++;
    setImmediate(spin);
  };
  setImmediate(spin);
  try {
    return { value: await work(), turns };
  } finally {
    on = false;
  }
}

describe('transform: a cooperative load', () => {
  it('TimeSlicer yields once its slice is used up, and only then', async () => {
    const never = new TimeSlicer(60_000);
    const idle = await turnsDuring(async () => {
      for (let i = 0; i < 50; i++) await never.tick();
    });
    assert.equal(idle.turns, 0);
    assert.equal(never.yields, 0);
    const always = new TimeSlicer(0);
    const busy = await turnsDuring(async () => {
      for (let i = 0; i < 50; i++) await always.tick();
    });
    assert.equal(always.yields, 50);
    assert.ok(busy.turns >= 49, `${busy.turns} turns of the event loop`);
  });

  it('a large project loads and parses in slices, with the same nodes as in one block, again when cached', async () => {
    const dir = writeSyntheticProject(mkdtempSync(path.join(tmpdir(), 'cht-big-')), { models: 40, macros: 60 });
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'cht-c-'));

    // All at once: no yielding, the registry parsed by the constructor.
    const whole = new TimeSlicer(Number.POSITIVE_INFINITY);
    const p1 = await loadProject({ kind: 'path', path: dir }, { cacheDir, logger: silentLogger, slicer: whole });
    const once = facts(await new ProjectCompiler(options(p1, whole)).parseAll(true));
    assert.equal(whole.yields, 0);
    assert.equal(once.filter((n) => (n as { id: string }).id.startsWith('model.')).length, 40);
    assert.ok(once.every((n) => (n as { error: unknown }).error === null));

    // In slices (a yield at every tick): every file, macro file and node gives the loop a turn.
    const sliced = new TimeSlicer(0);
    const run = await turnsDuring(async () => {
      const p = await loadProject({ kind: 'path', path: dir }, { cacheDir, logger: silentLogger, slicer: sliced });
      const compiler = await ProjectCompiler.create(options(p, sliced));
      return facts(await compiler.parseAll(true));
    });
    assert.deepEqual(run.value, once);
    const files = 40 + 10 + 6; // models, properties files, macro files (and more: folders, tests)
    assert.ok(sliced.yields >= files, `${sliced.yields} yields`);
    assert.ok(run.turns >= files, `${run.turns} turns of the event loop`);

    // The next run of the process finds the files parsed (and the YAML read): the same facts.
    const p3 = await loadProject({ kind: 'path', path: dir }, { cacheDir, logger: silentLogger });
    assert.deepEqual(facts(await (await ProjectCompiler.create(options(p3))).parseAll(true)), once);
  });

  it('a changed file is parsed anew, and a broken macro file still stops the run', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cht-small-'));
    mkdirSync(path.join(dir, 'models'));
    mkdirSync(path.join(dir, 'macros'));
    writeFileSync(path.join(dir, 'dbt_project.yml'), "name: 'small'\nversion: '1'\nconfig-version: 2\n");
    writeFileSync(path.join(dir, 'models', 'm.sql'), 'select {{ one() }} as x');
    writeFileSync(path.join(dir, 'macros', 'one.sql'), '{% macro one() %}1{% endmacro %}');
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'cht-c-'));
    const parse = async (): Promise<string> => {
      const p = await loadProject({ kind: 'path', path: dir }, { cacheDir, logger: silentLogger });
      const nodes = await (await ProjectCompiler.create(options(p))).parseModels();
      return nodes[0]!.parsedSql;
    };
    assert.equal(await parse(), 'select 1 as x');
    writeFileSync(path.join(dir, 'macros', 'one.sql'), '{% macro one() %}2{% endmacro %}');
    assert.equal(await parse(), 'select 2 as x');
    writeFileSync(path.join(dir, 'macros', 'one.sql'), '{% macro one() %}{% if %}{% endmacro %}');
    const p = await loadProject({ kind: 'path', path: dir }, { cacheDir, logger: silentLogger });
    await assert.rejects(ProjectCompiler.create(options(p)), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'TEMPLATE_SYNTAX');
      assert.match(e.message, /small\/macros\/one\.sql/);
      return true;
    });
  });

  it('macros reach a context through its prototype: own names win, namespaces are plain objects', async () => {
    const dir = writeSyntheticProject(mkdtempSync(path.join(tmpdir(), 'cht-ns-')), { models: 2, macros: 6 });
    const p = await loadProject(
      { kind: 'path', path: dir },
      { cacheDir: mkdtempSync(path.join(tmpdir(), 'cht-c-')), logger: silentLogger },
    );
    const registry = await MacroRegistry.create(p, new TimeSlicer());
    const used: string[] = [];
    const ctx: Record<string, unknown> = { field_1: 'own value', namespace: undefined };
    registry.install(ctx, 'big_project', 'run', (e) => used.push(`${e.packageName}.${e.name}`));
    assert.equal(ctx.field_1, 'own value');
    assert.equal(typeof ctx.field_0, 'function');
    assert.equal(Object.prototype.hasOwnProperty.call(ctx, 'field_0'), false);
    const ns = ctx.big_utils as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(ns), Object.prototype);
    assert.deepEqual(Object.keys(ns), [...registry.byPackage.get('big_utils')!.keys()]);
    assert.equal(ctx.big_utils, ns, 'one namespace object per context');
    assert.equal(typeof ns.util_0, 'function');
    assert.deepEqual(used, ['big_project.field_0', 'big_utils.util_0']);
    const dbtNs = ctx.dbt as Record<string, unknown>;
    assert.ok('run_query' in dbtNs && 'current_timestamp' in dbtNs);
    // Another context of the same package: its own bindings.
    const other: Record<string, unknown> = {};
    registry.install(other, 'big_project', 'parse');
    assert.notEqual(other.big_utils, ns);
    assert.notEqual(other.field_0, ctx.field_0);
  });

  it('YAML read in slices is what YAML.parse gives, errors included, and read again from the cache', async () => {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir)) {
        const f = path.join(dir, e);
        if (statSync(f).isDirectory()) walk(f);
        else if (/\.ya?ml$/.test(e)) files.push(f);
      }
    };
    for (const d of ['test/fixtures', 'resources']) walk(path.resolve(__dirname, '../../..', d));
    const dir = mkdtempSync(path.join(tmpdir(), 'cht-yaml-'));
    const odd: Record<string, string> = {
      empty: '',
      comment: '# nothing\n',
      merge: 'base: &b {a: 1, b: [1, 2]}\nx:\n  <<: *b\n  c: 3\ny: *b\n',
      scalars: 'a: 0o17\nb: 1e3\nc: .nan\nd: ~\ne: "x\\ty"\nf: |\n  one\n  two\ng: yes\n',
      twoDocs: 'a: 1\n---\nb: 2\n',
      duplicate: 'a: 1\na: 2\n',
      broken: 'a: [1, 2\nb: }\n',
      tab: 'a:\n\t- 1\n',
    };
    for (const [name, text] of Object.entries(odd)) {
      writeFileSync(path.join(dir, `${name}.yml`), text);
      files.push(path.join(dir, `${name}.yml`));
    }
    assert.ok(files.length > 12, `${files.length} files`);
    const outcome = async (read: () => unknown): Promise<unknown> => {
      try {
        return { value: await read() };
      } catch (error) {
        return { error: (error as Error).message };
      }
    };
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      const reference = await outcome(() => {
        try {
          return YAML.parse(text, { merge: true }) as unknown;
        } catch (error) {
          throw new Error(`${f} is not valid YAML: ${(error as Error).message}`);
        }
      });
      assert.deepEqual(await outcome(() => readYamlFileSliced(f, new TimeSlicer(0))), reference, f);
      assert.deepEqual(await outcome(() => readYamlFile(f)), reference, `${f} (cached)`);
      assert.deepEqual(await outcome(() => readYamlFileSliced(f, new TimeSlicer(0))), reference, `${f} (cached)`);
    }
    // Each read is its own copy.
    const a = readYamlFile(path.join(dir, 'merge.yml')) as { x: { c: number } };
    a.x.c = 99;
    assert.equal((readYamlFile(path.join(dir, 'merge.yml')) as { x: { c: number } }).x.c, 3);
  });

  it('stripSource strips what the regex it replaces stripped', () => {
    const old = (text: string): { text: string; leadingLines: number } => {
      const lead = /^[ \t\n\r\v\f]*/.exec(text)![0];
      return {
        text: text.replace(/^[ \t\n\r\v\f]+|[ \t\n\r\v\f]+$/g, ''),
        leadingLines: lead.split('\n').length - 1,
      };
    };
    const alphabet = [' ', '\t', '\n', '\r', '\v', '\f', '\u00a0', 'a', '{', '\ufeff', '\r\n'];
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let i = 0; i < 2000; i++) {
      const text = Array.from({ length: rand(12) }, () => alphabet[rand(alphabet.length)]).join('');
      assert.deepEqual(stripSource(text), old(text), JSON.stringify(text));
    }
  });
});
