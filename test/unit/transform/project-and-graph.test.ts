import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { silentLogger } from '../../../app/core/logger';
import { injectCtes } from '../../../app/transform/compile/ephemeral';
import { buildGraph } from '../../../app/transform/graph/build-graph';
import type { ModelNode } from '../../../app/transform/graph/types';
import { parseDbtignore } from '../../../app/transform/project/dbtignore';
import { githubTarballUrl, splitRef } from '../../../app/transform/project/fetch-archive';
import { loadProject } from '../../../app/transform/project/load-project';

const FIX = path.join(__dirname, '../../fixtures/dbt-projects');

describe('transform: project loading', () => {
  it('loads the fixture with its local package and the nested one, honouring .dbtignore', async () => {
    const p = await loadProject(
      { kind: 'path', path: path.join(FIX, 'full') },
      { cacheDir: mkdtempSync(path.join(tmpdir(), 'tp-')), logger: silentLogger },
    );
    assert.deepEqual(
      p.packages.map((x) => x.name),
      ['fixture_root', 'fixture_helpers', 'fixture_nested'],
    );
    assert.ok(!p.root.models.some((m) => m.path.includes('ignored')));
    assert.equal(p.root.models.length, 14);
    assert.deepEqual(p.root.project.onRunEnd, ['{{ record_results(results) }}']);
    assert.equal(p.selectors[0]?.name, 'contacts_only');
    const docs = p.root.modelProps.find((m) => m.name === 'docs')!;
    assert.deepEqual(
      docs.columns.map((c) => c.name),
      ['id', 'saved_timestamp', 'deleted', 'doc_type'],
    );
    assert.deepEqual(docs.columns[0]!.tests, [], 'data-tests (hyphen) is an unknown key, ignored as dbt does');
    assert.equal(p.root.sources[0]?.tables[0]?.name, "{{ env_var('POSTGRES_TABLE') }}");
  });

  it('fails plainly when there is no dbt_project.yml', async () => {
    await assert.rejects(
      loadProject({ kind: 'path', path: FIX }, { cacheDir: tmpdir(), logger: silentLogger }),
      /No dbt_project\.yml/,
    );
  });

  it('.dbtignore patterns', () => {
    const m = parseDbtignore('init.sql\nmodels/tmp/\n*.bak\n!keep.bak\n');
    assert.ok(m.ignores('tests/init.sql', false));
    assert.ok(m.ignores('models/tmp', true));
    assert.ok(m.ignores('models/a.bak', false));
    assert.ok(!m.ignores('keep.bak', false));
    assert.ok(!m.ignores('models/a.sql', false));
  });

  it('git URLs with #ref become GitHub codeload tarballs', () => {
    assert.deepEqual(splitRef('https://github.com/medic/cht-pipeline#v2.0.0'), {
      url: 'https://github.com/medic/cht-pipeline',
      ref: 'v2.0.0',
    });
    assert.equal(
      githubTarballUrl('https://github.com/medic/cht-pipeline.git', 'main'),
      'https://codeload.github.com/medic/cht-pipeline/tar.gz/main',
    );
    assert.equal(githubTarballUrl('https://gitlab.com/x/y', 'main'), null);
  });
});

describe('transform: graph', () => {
  const node = (name: string, refs: string[]): ModelNode => ({
    uniqueId: `model.p.${name}`,
    name,
    packageName: 'p',
    file: `models/${name}.sql`,
    absPath: '',
    fqn: [name],
    rawSql: '',
    config: {},
    materialized: 'table',
    tags: [],
    refs: refs.map((r) => ({ packageName: null, name: r })),
    sources: [],
    dependsOn: [],
    columns: [],
    constraints: [],
    contractEnforced: false,
    unitTests: [],
    parsedSql: '',
    macroSources: [],
    parseError: null,
    fingerprint: '',
  });
  it('orders parents first', () => {
    const g = buildGraph([node('c', ['b']), node('b', ['a']), node('a', [])]);
    assert.deepEqual(g.order, ['model.p.a', 'model.p.b', 'model.p.c']);
  });
  it('prints the cycle', () => {
    assert.throws(() => buildGraph([node('a', ['c']), node('b', ['a']), node('c', ['b'])]), /cycle: a → c → b → a/);
  });
  it('names a missing ref', () => {
    assert.throws(() => buildGraph([node('a', ['nope'])]), /refers to nope/);
  });
});

describe('transform: ephemeral CTE injection', () => {
  it('merges into a leading WITH or adds one', () => {
    assert.equal(
      injectCtes('with x as (select 1) select * from x', [{ name: 'e', sql: 'select 2' }]),
      'with  __dbt__cte__e as (\nselect 2\n), x as (select 1) select * from x',
    );
    assert.equal(
      injectCtes('-- c\nselect 1', [{ name: 'e', sql: 'select 2' }]),
      '-- c\nwith __dbt__cte__e as (\nselect 2\n)\nselect 1',
    );
  });
});

describe('transform: python datetime', () => {
  it('prints like str(datetime) and formats with strftime', async () => {
    const { PyDateTime } = await import('../../../app/transform/context/py-datetime');
    const d = new PyDateTime(Date.UTC(2024, 6, 31, 10, 5, 9, 123), true);
    assert.equal(String(d), '2024-07-31 10:05:09.123000+00:00');
    assert.equal(d.strftime(['%Y%m%d_%H%M%S'], {}), '20240731_100509');
    assert.equal(d.isoformat([], {}), '2024-07-31T10:05:09.123000+00:00');
  });
});
