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
const ORACLE = JSON.parse(readFileSync(path.join(__dirname, '../../fixtures/dbt-global/oracle.json'), 'utf8')) as {
  cases: { call: string; expected: string }[];
};
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
      if (normalise(got) !== normalise(c.expected))
        wrong.push(`${c.call}\n  dbt: ${JSON.stringify(c.expected)}\n  we:  ${JSON.stringify(got)}`);
    }
    assert.deepEqual(wrong, []);
  });

  it("a project's own macro overrides the global one, unqualified and through dispatch", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cht-glob-'));
    writeFileSync(
      path.join(dir, 'dbt_project.yml'),
      "name: 'over'\nversion: '1'\nconfig-version: 2\nmacro-paths: ['macros']\n",
    );
    const { mkdirSync } = await import('node:fs');
    mkdirSync(path.join(dir, 'macros'));
    writeFileSync(
      path.join(dir, 'macros', 'm.sql'),
      '{% macro postgres__any_value(e) %}first({{ e }}){% endmacro %}\n{% macro type_string() %}varchar{% endmacro %}',
    );
    const o = await inlineRenderer(dir, db.url, db.name);
    try {
      assert.equal(
        await o.render("{{ dbt.any_value('x') }}|{{ type_string() }}|{{ dbt.type_string() }}"),
        'first(x)|varchar|TEXT',
      );
    } finally {
      await o.close();
    }
  });
});

describe('model files render as dbt renders them', () => {
  it('stripped of surrounding whitespace, with errors on the file’s own lines', async () => {
    const { loadProject } = await import('../../../app/transform/project/load-project');
    const { ProjectCompiler } = await import('../../../app/transform/compile/project-compiler');
    const { silentLogger } = await import('../../../app/core/logger');
    const { mkdirSync } = await import('node:fs');
    const dir = mkdtempSync(path.join(tmpdir(), 'cht-strip-'));
    writeFileSync(path.join(dir, 'dbt_project.yml'), "name: 'strip'\nversion: '1'\nconfig-version: 2\n");
    mkdirSync(path.join(dir, 'models'));
    writeFileSync(path.join(dir, 'models', 'ok.sql'), '\n\n  select 1 as x\n\n');
    writeFileSync(path.join(dir, 'models', 'bad.sql'), '\n\n\nselect 1\n\n{{ 1 + }}\n');
    const project = await loadProject(
      { kind: 'path', path: dir },
      { cacheDir: mkdtempSync(path.join(tmpdir(), 'cht-c-')), logger: silentLogger },
    );
    const compiler = new ProjectCompiler({
      project,
      target: {
        name: 'default',
        schema: 's',
        database: 'd',
        type: 'postgres',
        threads: 1,
        user: 'u',
        host: 'h',
        port: 5432,
        dbname: 'd',
      },
      env: {},
      cliVars: {},
      invocationId: 'i',
      runStartedAt: '',
      fullRefresh: false,
      logger: silentLogger,
    });
    const nodes = await compiler.parseModels();
    assert.equal(nodes.find((n) => n.name === 'ok')!.parsedSql, 'select 1 as x');
    const bad = nodes.find((n) => n.name === 'bad')!;
    assert.match(bad.parseError!.message, /line 6\)/, bad.parseError!.message);
  });
});

describe("a project's quoting: config", () => {
  it('leaves the parts it turns off unquoted in model relations (sources and api.Relation keep quotes)', async () => {
    const { loadProject } = await import('../../../app/transform/project/load-project');
    const { ProjectCompiler } = await import('../../../app/transform/compile/project-compiler');
    const { silentLogger } = await import('../../../app/core/logger');
    const { mkdirSync } = await import('node:fs');
    const dir = mkdtempSync(path.join(tmpdir(), 'cht-quote-'));
    writeFileSync(
      path.join(dir, 'dbt_project.yml'),
      "name: 'q'\nversion: '1'\nconfig-version: 2\nquoting:\n  database: false\n  identifier: false\n",
    );
    mkdirSync(path.join(dir, 'models'));
    writeFileSync(path.join(dir, 'models', 'a.sql'), 'select 1 as x');
    writeFileSync(
      path.join(dir, 'models', 'b.sql'),
      "select * from {{ ref('a') }} -- {{ api.Relation.create(schema='s', identifier='t') }}",
    );
    const project = await loadProject(
      { kind: 'path', path: dir },
      { cacheDir: mkdtempSync(path.join(tmpdir(), 'cht-c-')), logger: silentLogger },
    );
    const compiler = new ProjectCompiler({
      project,
      target: {
        name: 'default',
        schema: 'sch',
        database: 'db',
        type: 'postgres',
        threads: 1,
        user: 'u',
        host: 'h',
        port: 5432,
        dbname: 'db',
      },
      env: {},
      cliVars: {},
      invocationId: 'i',
      runStartedAt: '',
      fullRefresh: false,
      logger: silentLogger,
    });
    const nodes = await compiler.parseModels();
    assert.equal(nodes.find((n) => n.name === 'b')!.parsedSql, 'select * from db."sch".a -- "s"."t"');
  });
});

describe('resources/dbt-global files', () => {
  it('all parse, and the registry (which scans names, parsing lazily) knows exactly their macros', async () => {
    const { Environment } = await import('../../../app/transform/jinja');
    const { globalMacroFiles, GLOBAL_PACKAGE } = await import('../../../app/transform/context/global-project');
    const { MacroRegistry } = await import('../../../app/transform/context/macro-registry');
    const env = new Environment();
    const parsed = globalMacroFiles().flatMap((f) => env.parse(f.text, f.path).macros.map((m) => m.key));
    const project = {
      root: { name: 'r', project: { dispatch: [] } },
      packages: [],
      missing: [],
    } as unknown as ConstructorParameters<typeof MacroRegistry>[0];
    const registry = new MacroRegistry(project);
    assert.deepEqual([...registry.byPackage.get(GLOBAL_PACKAGE)!.keys()].sort(), parsed.sort());
    assert.ok(parsed.length > 100, `${parsed.length} macros`);
  });
});
