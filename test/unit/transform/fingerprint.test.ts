import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { silentLogger } from '../../../app/core/logger';
import { computeFingerprints } from '../../../app/transform/compile/fingerprint';
import { ProjectCompiler } from '../../../app/transform/compile/project-compiler';
import { buildGraph } from '../../../app/transform/graph/build-graph';
import { loadProject } from '../../../app/transform/project/load-project';

const FIX = path.join(__dirname, '../../fixtures/dbt-projects');

async function fingerprints(
  root: string,
  vars: Record<string, unknown> = {},
  parse: 'models' | 'all' = 'models',
): Promise<Map<string, string>> {
  const project = await loadProject({ kind: 'path', path: root }, { cacheDir: tmpdir(), logger: silentLogger });
  const compiler = new ProjectCompiler({
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
    cliVars: vars,
    invocationId: 'i',
    runStartedAt: '',
    fullRefresh: false,
    logger: silentLogger,
  });
  const graph = buildGraph(parse === 'all' ? await compiler.parseAll(true) : await compiler.parseModels());
  computeFingerprints(graph);
  return new Map(
    [...graph.nodes.values()]
      .filter((n) => (n.resourceType ?? 'model') === 'model')
      .map((n) => [n.name, n.fingerprint]),
  );
}

describe('transform: fingerprints', () => {
  it('do not change when sources, seeds and tests join the graph (cht-sync dbt, the daemon)', async () => {
    const root = path.join(FIX, 'full');
    const models = await fingerprints(root);
    assert.ok([...models.values()].every((f) => f.length === 32));
    assert.deepEqual(await fingerprints(root, {}, 'all'), models);
  });

  it('follow the SQL and the macros a model uses, not vars; a change reaches the descendants', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cht-fp-'));
    cpSync(FIX, dir, { recursive: true });
    const root = path.join(dir, 'full');
    const before = await fingerprints(root);
    assert.deepEqual(
      await fingerprints(root, { greeting: 'hola', batch_size: 5 }),
      before,
      'vars do not rebuild tables',
    );

    const helpers = path.join(dir, 'helpers', 'macros', 'helpers.sql');
    writeFileSync(helpers, readFileSync(helpers, 'utf8').replace("concat_ws(':'", "concat_ws('|'"));
    const afterMacro = await fingerprints(root);
    const changed = [...afterMacro]
      .filter(([k, v]) => before.get(k) !== v)
      .map(([k]) => k)
      .sort();
    assert.ok(changed.includes('merged'), 'merged uses concat_pair');
    assert.ok(!changed.includes('docs') && !changed.includes('contacts_view'), JSON.stringify(changed));

    const docs = path.join(root, 'models', 'root', 'docs.sql');
    writeFileSync(docs, `${readFileSync(docs, 'utf8')}\n-- a comment\n`);
    const afterSql = await fingerprints(root);
    for (const name of ['docs', 'contacts', 'user', 'contacts_view', 'contact_counts', 'helper_docs_count'])
      assert.notEqual(afterSql.get(name), afterMacro.get(name), name);
  });
});
