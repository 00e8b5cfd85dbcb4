import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Recorder } from '../context/dbt-context';
import { sourceNodeId } from '../graph/build-graph';
import type { ModelNode, TestInfo } from '../graph/types';
import type { ColumnProps, ConfigMap, DbtPackage, ModelProps } from '../project/types';
import { mergeConfig, nodeFolders, projectConfigFor } from './model-config';
import type { CompilerHost } from './compiler-host';

/**
 * Seeds, snapshots, sources, data tests (generic + singular) and unit tests as graph nodes,
 * next to the models ProjectCompiler parses. Sources never run; they are there so that
 * `source:x+` selects what reads them and so that source tests have a parent.
 */

const REF_RE = /\bref\s*\(\s*(['"])([^'"]+)\1\s*(?:,\s*(['"])([^'"]+)\3\s*)?\)/g;
const SOURCE_RE = /\bsource\s*\(\s*(['"])([^'"]+)\1\s*,\s*(['"])([^'"]+)\3\s*\)/g;
const SNAPSHOT_RE = /\{%-?\s*snapshot\s+([A-Za-z_][\w]*)\s*-?%\}([\s\S]*?)\{%-?\s*endsnapshot\s*-?%\}/g;

/** Test properties that configure the test rather than being arguments of its macro. */
const TEST_CONFIG_KEYS = new Set([
  'severity',
  'tags',
  'enabled',
  'where',
  'limit',
  'warn_if',
  'error_if',
  'fail_calc',
  'store_failures',
  'store_failures_as',
  'meta',
  'alias',
  'schema',
  'database',
  'group',
]);

export const TEST_DEFAULTS: ConfigMap = {
  severity: 'ERROR',
  warn_if: '!= 0',
  error_if: '!= 0',
  fail_calc: 'count(*)',
  store_failures: null,
  where: null,
  limit: null,
};

function blankNode(
  partial: Partial<ModelNode> & Pick<ModelNode, 'uniqueId' | 'name' | 'packageName' | 'file' | 'absPath'>,
): ModelNode {
  return {
    fqn: [],
    rawSql: '',
    config: {},
    materialized: 'view',
    tags: [],
    refs: [],
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
    ...partial,
  };
}

function tagsOf(c: ConfigMap): string[] {
  return Array.isArray(c.tags) ? c.tags.map(String) : typeof c.tags === 'string' ? [c.tags] : [];
}

function md5(s: string): string {
  return createHash('md5').update(s).digest('hex');
}

function scanRefs(text: string, into: Recorder): void {
  for (const m of text.matchAll(REF_RE))
    into.refs.push(m[4] ? { packageName: m[2]!, name: m[4] } : { packageName: null, name: m[2]! });
  for (const m of text.matchAll(SOURCE_RE)) into.sources.push({ source: m[2]!, table: m[4]! });
}

/** Python's repr() of a str. */
function pyReprStr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  const body = s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
  return quote + (quote === "'" ? body.replace(/'/g, "\\'") : body) + quote;
}

/** dbt's get_hashable_md + repr(): dicts with sorted keys, lists, everything else as repr(str(x)). */
function hashableRepr(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(hashableRepr).join(', ')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${pyReprStr(k)}: ${hashableRepr((v as Record<string, unknown>)[k])}`)
      .join(', ')}}`;
  return pyReprStr(pyStrLite(v));
}

/** dbt's unique_id hash of a generic test: md5(name + repr(test_metadata))[-10:]. */
export function genericTestHash(
  name: string,
  metadata: { namespace: string | null; name: string; kwargs: Record<string, unknown> },
): string {
  return md5(name + hashableRepr(metadata)).slice(-10);
}

/** dbt's synthesize_generic_test_names: `<type>_<target>_<args…>`; the full name is the node's name. */
export function genericTestName(testType: string, targetName: string, args: Record<string, unknown>): string {
  return genericTestNames(testType, targetName, args).full;
}

/** Short (≤ 63 characters: compiled file, stored-failures table) and full names. */
export function genericTestNames(
  testType: string,
  targetName: string,
  args: Record<string, unknown>,
): { short: string; full: string } {
  const flat: string[] = [];
  for (const key of Object.keys(args).sort()) {
    if (key === 'model') continue;
    const v = args[key];
    const parts = v && typeof v === 'object' ? (Array.isArray(v) ? v : Object.values(v)) : [v];
    flat.push(...parts.map((p) => pyStrLite(p)));
  }
  const unique = flat.map((a) => a.replace(/[^0-9a-zA-Z_]+/g, '_')).join('__');
  const identifier = `${testType}_${targetName}`;
  const full = `${identifier}_${unique}`;
  return { short: full.length >= 64 ? `${identifier.slice(0, 30)}_${md5(full)}` : full, full };
}

/** str() of a YAML value as Python would print it (enough for test names). */
function pyStrLite(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (Array.isArray(v)) return `[${v.map((x) => (typeof x === 'string' ? `'${x}'` : pyStrLite(x))).join(', ')}]`;
  if (typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `'${k}': ${typeof x === 'string' ? `'${x}'` : pyStrLite(x)}`)
      .join(', ')}}`;
  return String(v);
}

interface TestTarget {
  kind: 'model' | 'seed' | 'snapshot' | 'source';
  /** Name used in test names: the node name, or `<source>_<table>` for sources. */
  name: string;
  attachedNode: string;
  /** `ref('x')` / `source('s', 't')` */
  expr: string;
}

/** One entry of a `data_tests:` / `tests:` list → a test node. */
function genericTestNode(
  pkg: DbtPackage,
  file: string,
  target: TestTarget,
  column: ColumnProps | null,
  entry: unknown,
  compiler: CompilerHost,
): ModelNode | null {
  let testName: string;
  let body: Record<string, unknown> = {};
  if (typeof entry === 'string') testName = entry;
  else if (entry && typeof entry === 'object' && !Array.isArray(entry)) {
    const e = entry as Record<string, unknown>;
    if (typeof e.test_name === 'string') {
      testName = e.test_name;
      body = { ...e };
      delete body.test_name;
    } else {
      const keys = Object.keys(e);
      if (keys.length !== 1) return null;
      testName = keys[0]!;
      const v = e[testName];
      body = v && typeof v === 'object' && !Array.isArray(v) ? { ...(v as Record<string, unknown>) } : {};
    }
  } else return null;
  const dot = testName.indexOf('.');
  const namespace = dot > 0 ? testName.slice(0, dot) : null;
  const shortName = dot > 0 ? testName.slice(dot + 1) : testName;
  let config: ConfigMap = { ...(body.config && typeof body.config === 'object' ? (body.config as ConfigMap) : {}) };
  const customName = typeof body.name === 'string' ? body.name : null;
  let args: Record<string, unknown> = {};
  const source =
    body.arguments && typeof body.arguments === 'object' && !Array.isArray(body.arguments)
      ? { ...(body.arguments as Record<string, unknown>), ...body }
      : body;
  for (const [k, v] of Object.entries(source)) {
    if (k === 'config' || k === 'name' || k === 'arguments' || k === 'description') continue;
    if (TEST_CONFIG_KEYS.has(k)) {
      if (config[k] === undefined) config[k] = v;
    } else args[k] = v;
  }
  if (column) args = { column_name: column.quote ? `"${column.name}"` : column.name, ...args };
  const columnName = typeof args.column_name === 'string' ? args.column_name : null;
  const testType = `${target.kind === 'source' ? 'source_' : ''}${namespace ? `${namespace}_` : ''}${shortName}`;
  const names = genericTestNames(testType, target.name, args);
  const name = customName ?? names.full;
  const folders = nodeFolders(pkg, file, [
    ...pkg.project.modelPaths,
    ...pkg.project.seedPaths,
    ...pkg.project.snapshotPaths,
  ]);
  config = mergeConfig(
    mergeConfig({ ...TEST_DEFAULTS }, projectConfigFor(pkg, compiler.o.project.root, folders, name, 'dataTests')),
    config,
  );
  const recorder: Recorder = { refs: [], sources: [], config: {} };
  scanRefs(`${target.expr} ${JSON.stringify(args)}`, recorder);
  const test: TestInfo = {
    kind: 'generic',
    testName: shortName,
    namespace,
    kwargs: args,
    columnName,
    attachedNode: target.attachedNode,
    modelExpr: target.expr,
  };
  return blankNode({
    resourceType: 'test',
    test,
    uniqueId: `test.${pkg.name}.${name}.${genericTestHash(name, { namespace, name: shortName, kwargs: { ...args, model: `{{ get_where_subquery(${target.expr}) }}` } })}`,
    name,
    packageName: pkg.name,
    file,
    absPath: path.join(pkg.root, file),
    fqn: [...folders, name],
    config: customName || config.alias !== undefined ? config : { ...config, alias: names.short },
    materialized: 'test',
    tags: tagsOf(config),
    refs: recorder.refs,
    sources: recorder.sources,
  });
}

/** dbt folds `enabled`, `tags` and `meta` of a test's target into nothing; tags come from the test. */
function testsOfProps(
  pkg: DbtPackage,
  props: ModelProps,
  kind: TestTarget['kind'],
  compiler: CompilerHost,
  nodeId: string,
): ModelNode[] {
  const target: TestTarget = { kind, name: props.name, attachedNode: nodeId, expr: `ref('${props.name}')` };
  const out: ModelNode[] = [];
  for (const t of props.tests) {
    const n = genericTestNode(pkg, props.file, target, null, t, compiler);
    if (n) out.push(n);
  }
  for (const c of props.columns) {
    for (const t of c.tests) {
      const n = genericTestNode(pkg, props.file, target, c, t, compiler);
      if (n) out.push(n);
    }
  }
  return out;
}

/** Sources as nodes (never run). */
export function sourceNodes(compiler: CompilerHost): ModelNode[] {
  return compiler.sourceEntries().map((s) =>
    blankNode({
      resourceType: 'source',
      sourceKey: `${s.source}.${s.table}`,
      uniqueId: sourceNodeId(s.packageName, s.source, s.table),
      name: s.table,
      packageName: s.packageName,
      file: s.file,
      absPath: s.file,
      fqn: [s.source, s.table],
      config: s.config,
      materialized: 'source',
      tags: tagsOf(s.config),
    }),
  );
}

export function seedNodes(compiler: CompilerHost): ModelNode[] {
  const root = compiler.o.project.root;
  const out: ModelNode[] = [];
  for (const pkg of compiler.o.project.packages) {
    for (const f of pkg.seeds) {
      const name = path.posix.basename(f.path, '.csv');
      const folders = nodeFolders(pkg, f.path, pkg.project.seedPaths);
      const props = pkg.seedProps.find((m) => m.name === name);
      let config: ConfigMap = projectConfigFor(pkg, root, folders, name, 'seeds');
      if (props) config = mergeConfig(config, props.config);
      out.push(
        blankNode({
          resourceType: 'seed',
          uniqueId: `seed.${pkg.name}.${name}`,
          name,
          packageName: pkg.name,
          file: f.path,
          absPath: f.absPath,
          fqn: [...folders, name],
          csv: f.text,
          config,
          materialized: 'seed',
          tags: tagsOf(config),
          columns: props?.columns ?? [],
        }),
      );
    }
  }
  return out;
}

/** `{% snapshot name %}…{% endsnapshot %}` blocks, parsed like models (config() and refs recorded). */
export async function snapshotNodes(compiler: CompilerHost): Promise<ModelNode[]> {
  const root = compiler.o.project.root;
  const out: ModelNode[] = [];
  for (const pkg of compiler.o.project.packages) {
    for (const f of pkg.snapshots) {
      for (const m of f.text.matchAll(SNAPSHOT_RE)) {
        const name = m[1]!;
        // Keep line numbers: the body starts where it starts in the file.
        const prefix = '\n'.repeat(f.text.slice(0, m.index! + m[0].indexOf(m[2]!)).split('\n').length - 1);
        const rawSql = prefix + m[2]!;
        const folders = nodeFolders(pkg, f.path, pkg.project.snapshotPaths);
        const props = pkg.snapshotProps.find((p) => p.name === name);
        let config: ConfigMap = projectConfigFor(pkg, root, folders, name, 'snapshots');
        if (props) config = mergeConfig(config, props.config);
        const node = blankNode({
          resourceType: 'snapshot',
          uniqueId: `snapshot.${pkg.name}.${name}`,
          name,
          packageName: pkg.name,
          file: f.path,
          absPath: f.absPath,
          fqn: [...folders, name],
          rawSql,
          config,
          materialized: 'snapshot',
          columns: props?.columns ?? [],
        });
        await recordRender(compiler, node);
        node.tags = tagsOf(node.config);
        out.push(node);
      }
    }
    // dbt 1.9: snapshots defined in YAML (`relation:` + config).
    for (const props of pkg.snapshotProps) {
      const relation =
        (props as ModelProps & { config: ConfigMap }).config.relation ??
        (props as unknown as { relation?: unknown }).relation;
      if (typeof relation !== 'string' || out.some((n) => n.packageName === pkg.name && n.name === props.name))
        continue;
      const folders = nodeFolders(pkg, props.file, pkg.project.snapshotPaths);
      const config = mergeConfig(projectConfigFor(pkg, root, folders, props.name, 'snapshots'), props.config);
      const node = blankNode({
        resourceType: 'snapshot',
        uniqueId: `snapshot.${pkg.name}.${props.name}`,
        name: props.name,
        packageName: pkg.name,
        file: props.file,
        absPath: path.join(pkg.root, props.file),
        fqn: [...folders, props.name],
        rawSql: `select * from {{ ${relation} }}`,
        config,
        materialized: 'snapshot',
        columns: props.columns,
      });
      await recordRender(compiler, node);
      node.tags = tagsOf(node.config);
      out.push(node);
    }
  }
  return out;
}

/** Render with the recording context: refs, sources and config() calls. */
async function recordRender(compiler: CompilerHost, node: ModelNode): Promise<void> {
  await compiler.slicer.tick();
  const recorder: Recorder = { refs: [], sources: [], config: {}, macros: new Set() };
  const ctx = compiler.context(
    compiler.baseContext({
      mode: 'parse',
      packageName: node.packageName,
      modelName: node.name,
      recorder,
      config: node.config,
      thisRelation: compiler.relationFor(node),
    }),
  );
  try {
    node.parsedSql = await compiler.renderFile(node, ctx);
  } catch (error) {
    node.parseError = error as Error;
    scanRefs(node.rawSql, recorder);
  }
  node.config = mergeConfig(node.config, recorder.config);
  node.refs = recorder.refs;
  node.sources = recorder.sources;
}

/** Generic tests from YAML (models, seeds, snapshots, sources), singular tests, unit tests. */
export async function testNodes(compiler: CompilerHost, nodes: ModelNode[]): Promise<ModelNode[]> {
  const root = compiler.o.project.root;
  const out: ModelNode[] = [];
  const byKey = new Map(nodes.map((n) => [`${n.resourceType ?? 'model'}:${n.packageName}.${n.name}`, n]));
  for (const pkg of compiler.o.project.packages) {
    for (const [list, kind] of [
      [pkg.modelProps, 'model'],
      [pkg.seedProps, 'seed'],
      [pkg.snapshotProps, 'snapshot'],
    ] as const) {
      for (const props of list) {
        await compiler.slicer.tick();
        const node = byKey.get(`${kind}:${pkg.name}.${props.name}`);
        if (!node || node.config.enabled === false) continue;
        out.push(...testsOfProps(pkg, props, kind, compiler, node.uniqueId));
      }
    }
    for (const src of pkg.sources) {
      for (const t of src.tables) {
        const entry = compiler
          .sourceEntries()
          .find(
            (e) => e.packageName === pkg.name && e.source === src.name && (e.rawName === t.name || e.table === t.name),
          );
        const table = entry?.table ?? t.name;
        const target: TestTarget = {
          kind: 'source',
          name: `${src.name}_${table}`,
          attachedNode: sourceNodeId(pkg.name, src.name, table),
          expr: `source('${src.name}', '${table}')`,
        };
        for (const x of t.tests) {
          const n = genericTestNode(pkg, src.file, target, null, x, compiler);
          if (n) out.push(n);
        }
        for (const c of t.columns) {
          for (const x of c.tests) {
            const n = genericTestNode(pkg, src.file, target, c, x, compiler);
            if (n) out.push(n);
          }
        }
      }
    }
    // Singular tests: SQL files under test-paths (files under generic/ hold {% test %} macros).
    for (const f of pkg.tests) {
      if (isGenericTestFile(pkg, f.path)) continue;
      const name = path.posix.basename(f.path, '.sql');
      const folders = nodeFolders(pkg, f.path, pkg.project.testPaths);
      const node = blankNode({
        resourceType: 'test',
        test: {
          kind: 'singular',
          testName: null,
          namespace: null,
          kwargs: {},
          columnName: null,
          attachedNode: null,
          modelExpr: null,
        },
        uniqueId: `test.${pkg.name}.${name}`,
        name,
        packageName: pkg.name,
        file: f.path,
        absPath: f.absPath,
        fqn: [...folders, name],
        rawSql: f.text,
        config: mergeConfig({ ...TEST_DEFAULTS }, projectConfigFor(pkg, root, folders, name, 'dataTests')),
        materialized: 'test',
      });
      await recordRender(compiler, node);
      node.tags = tagsOf(node.config);
      out.push(node);
    }
    for (const u of pkg.unitTests) {
      const model =
        byKey.get(`model:${pkg.name}.${u.model}`) ??
        nodes.find((n) => (n.resourceType ?? 'model') === 'model' && n.name === u.model);
      if (!model) {
        compiler.warnings.push(
          `Unit test ${u.name} (${pkg.name}/${u.file}) is for model ${u.model}, which does not exist; it was skipped.`,
        );
        continue;
      }
      out.push(
        blankNode({
          resourceType: 'unit_test',
          test: {
            kind: 'unit',
            testName: u.name,
            namespace: null,
            kwargs: {},
            columnName: null,
            attachedNode: model.uniqueId,
            modelExpr: null,
          },
          uniqueId: `unit_test.${pkg.name}.${u.model}.${u.name}`,
          name: u.name,
          packageName: pkg.name,
          file: u.file,
          absPath: path.join(pkg.root, u.file),
          fqn: [...model.fqn.slice(0, -1), u.model, u.name],
          config: {},
          materialized: 'unit',
          unitTests: [u],
          // A unit test needs what its model reads (for the inputs' column types); the model waits for it.
          refs: model.refs,
          sources: model.sources,
        }),
      );
    }
  }
  return out;
}

export function isGenericTestFile(pkg: DbtPackage, rel: string): boolean {
  return pkg.project.testPaths.some((p) => rel.startsWith(`${p.replace(/\/+$/, '')}/generic/`));
}
