import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildGraph } from '../../../app/transform/graph/build-graph';
import { selectModels } from '../../../app/transform/graph/select';
import type { ModelNode } from '../../../app/transform/graph/types';

const node = (name: string, refs: string[], o: Partial<ModelNode> = {}): ModelNode => ({
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
  fingerprint: name,
  ...o,
});

// a → b → c ; a → d ; e (alone, a view, tagged)
const graph = buildGraph([
  node('a', []),
  node('b', ['a'], { file: 'models/mid/b.sql', fqn: ['mid', 'b'] }),
  node('c', ['b'], { tags: ['nightly'] }),
  node('d', ['a'], { config: { enabled: false } }),
  node('e', [], { materialized: 'view', config: { materialized: 'view' }, tags: ['nightly', 'ui'] }),
]);
const names = (o: Parameters<typeof selectModels>[1]): string[] =>
  selectModels(graph, o).map((id) => id.split('.').pop()!);

describe('transform: selection syntax', () => {
  it('everything enabled by default, parents first', () => assert.deepEqual(names({}), ['a', 'b', 'c', 'e']));
  it('+ for ancestors and descendants, with depth', () => {
    assert.deepEqual(names({ select: ['+c'] }), ['a', 'b', 'c']);
    assert.deepEqual(names({ select: ['a+1'] }), ['a', 'b']);
    assert.deepEqual(names({ select: ['1+c'] }), ['b', 'c']);
  });
  it('intersection with commas, union with spaces, exclusion', () => {
    assert.deepEqual(names({ select: ['tag:nightly,config.materialized:view'] }), ['e']);
    assert.deepEqual(names({ select: ['tag:ui c'] }), ['c', 'e']);
    assert.deepEqual(names({ select: ['a+'], exclude: ['c'] }), ['a', 'b']);
  });
  it('path, fqn folder, globs, package', () => {
    assert.deepEqual(names({ select: ['path:models/mid'] }), ['b']);
    assert.deepEqual(names({ select: ['p.mid'] }), ['b']);
    assert.deepEqual(names({ select: ['a*'] }), ['a']);
    assert.deepEqual(names({ select: ['package:p'] }), ['a', 'b', 'c', 'e']);
  });
  it('state:modified compares fingerprints', () => {
    assert.deepEqual(
      names({
        select: ['state:modified'],
        previousFingerprints: new Map([
          ['model.p.a', 'a'],
          ['model.p.b', 'old'],
        ]),
      }),
      ['b', 'c', 'e'],
    );
  });
  it('selectors by name, with the YAML definition forms', () => {
    const selectors = [
      {
        name: 'nightly_no_views',
        description: '',
        isDefault: false,
        definition: {
          union: [{ method: 'tag', value: 'nightly' }, { exclude: [{ method: 'config.materialized', value: 'view' }] }],
        },
      },
      { name: 'up_to_c', description: '', isDefault: false, definition: { method: 'fqn', value: 'c', parents: true } },
      { name: 'dflt', description: '', isDefault: true, definition: 'tag:ui' },
    ];
    assert.deepEqual(names({ select: ['nightly_no_views'], selectors }), ['c']);
    assert.deepEqual(names({ select: ['selector:up_to_c'], selectors }), ['a', 'b', 'c']);
    assert.deepEqual(names({ selectors }), ['e'], 'the default selector applies when nothing is selected');
  });
  it('an unknown method or selector is a clear error', () => {
    assert.throws(() => names({ select: ['colour:red'] }), /Unknown selection method "colour:"/);
    assert.throws(() => names({ select: ['selector:nope'] }), /No selector named "nope"/);
  });
});
