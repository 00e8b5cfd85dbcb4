import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ModelNode } from '../graph/types';
import type { PgSession } from '../materialize/pg-session';
import type { RunArtifacts } from '../run-transform';

/**
 * dbt's artifacts in target/: manifest.json (schema v12), run_results.json (v6) and, for
 * `docs generate`, catalog.json (v1) — the fields dbt docs, lineage and observability tools
 * read (nodes, sources, parent/child maps, statuses, timings, failures, compiled code).
 */
export const DBT_VERSION = '1.10.0';

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

function metadata(a: RunArtifacts, schema: string): Record<string, unknown> {
  return {
    dbt_schema_version: `https://schemas.getdbt.com/dbt/${schema}.json`,
    dbt_version: DBT_VERSION,
    generated_at: a.generatedAt,
    invocation_id: a.invocationId,
    invocation_started_at: a.generatedAt,
    env: {},
  };
}

function columnsOf(n: ModelNode): Record<string, unknown> {
  return Object.fromEntries(
    n.columns.map((c) => [
      c.name,
      {
        name: c.name,
        description: c.description,
        meta: {},
        data_type: c.dataType,
        constraints: c.constraints,
        quote: c.quote || null,
        tags: [],
        granularity: null,
      },
    ]),
  );
}

function nodeEntry(a: RunArtifacts, n: ModelNode): Record<string, unknown> {
  const rel = a.compiler.relationFor(n);
  const kind = n.resourceType ?? 'model';
  const isTest = kind === 'test' || kind === 'unit_test';
  const compiled = a.compiled.get(n.uniqueId);
  const base: Record<string, unknown> = {
    database: isTest ? a.compiler.o.target.database : rel.database,
    schema: isTest ? `${a.compiler.o.target.schema}_dbt_test__audit` : rel.schema,
    name: n.name,
    resource_type: kind,
    package_name: n.packageName,
    path: n.file,
    original_file_path: n.file,
    unique_id: n.uniqueId,
    fqn: [n.packageName, ...n.fqn],
    alias: isTest ? n.name : rel.identifier,
    checksum: { name: 'sha256', checksum: sha256(n.csv ?? n.rawSql) },
    config: {
      enabled: true,
      materialized: kind === 'model' ? n.materialized : kind,
      tags: n.tags,
      meta: {},
      ...n.config,
    },
    tags: n.tags,
    description: '',
    columns: columnsOf(n),
    meta: {},
    group: null,
    docs: { show: true, node_color: null },
    patch_path: null,
    build_path: null,
    unrendered_config: {},
    created_at: Date.parse(a.generatedAt) / 1000,
    relation_name: isTest || n.materialized === 'ephemeral' ? null : rel.render(),
    raw_code: n.rawSql,
    language: 'sql',
    refs: n.refs.map((r) => ({ name: r.name, package: r.packageName, version: null })),
    sources: n.sources.map((s) => [s.source, s.table]),
    metrics: [],
    depends_on: { macros: n.macroSources.map((m) => `macro.${m.split('\0')[0]}`), nodes: n.dependsOn },
    compiled_path: compiled !== undefined ? `target/compiled/${n.packageName}/${n.file}` : null,
    compiled: compiled !== undefined,
    compiled_code: compiled ?? null,
    extra_ctes_injected: compiled !== undefined,
    extra_ctes: [],
    contract: { enforced: n.contractEnforced, alias_types: true, checksum: null },
  };
  if (kind === 'model')
    Object.assign(base, {
      access: 'protected',
      constraints: n.constraints,
      version: null,
      latest_version: null,
      deprecation_date: null,
    });
  if (kind === 'seed') Object.assign(base, { root_path: null, depends_on: { macros: [] } });
  if (kind === 'test' && n.test) {
    Object.assign(base, {
      column_name: n.test.columnName,
      attached_node: n.test.attachedNode,
      file_key_name: n.test.attachedNode
        ? `${n.test.attachedNode.startsWith('source.') ? 'sources' : 'models'}.${a.graph.nodes.get(n.test.attachedNode)?.name ?? ''}`
        : null,
      ...(n.test.kind === 'generic'
        ? {
            test_metadata: {
              name: n.test.testName,
              kwargs: { ...n.test.kwargs, model: `{{ get_where_subquery(${n.test.modelExpr}) }}` },
              namespace: n.test.namespace,
            },
          }
        : {}),
    });
  }
  if (kind === 'unit_test') {
    const u = n.unitTests[0];
    Object.assign(base, {
      model: u?.model,
      given: u?.given,
      expect: u?.expect,
      overrides: u?.overrides ?? null,
      versions: null,
      version: null,
    });
  }
  return base;
}

function sourceEntry(a: RunArtifacts, n: ModelNode): Record<string, unknown> {
  const [source, table] = (n.sourceKey ?? '.').split('.') as [string, string];
  const rel = a.compiler.relationForSource(source, table);
  return {
    database: rel.database,
    schema: rel.schema,
    name: table,
    resource_type: 'source',
    package_name: n.packageName,
    path: n.file,
    original_file_path: n.file,
    unique_id: n.uniqueId,
    fqn: [n.packageName, ...n.fqn],
    source_name: source,
    source_description: '',
    loader: '',
    identifier: rel.identifier,
    quoting: { database: null, schema: null, identifier: null, column: null },
    loaded_at_field: typeof n.config.loaded_at_field === 'string' ? n.config.loaded_at_field : null,
    freshness: n.config.freshness ?? {
      warn_after: { count: null, period: null },
      error_after: { count: null, period: null },
      filter: null,
    },
    external: null,
    description: '',
    columns: {},
    meta: {},
    source_meta: {},
    tags: n.tags,
    config: { enabled: true },
    patch_path: null,
    unrendered_config: {},
    relation_name: rel.render(),
    created_at: Date.parse(a.generatedAt) / 1000,
  };
}

export function buildManifest(a: RunArtifacts): Record<string, unknown> {
  const nodes: Record<string, unknown> = {};
  const sources: Record<string, unknown> = {};
  const unitTests: Record<string, unknown> = {};
  const parentMap: Record<string, string[]> = {};
  const childMap: Record<string, string[]> = {};
  for (const n of a.graph.nodes.values()) {
    const kind = n.resourceType ?? 'model';
    if (kind === 'source') sources[n.uniqueId] = sourceEntry(a, n);
    else if (kind === 'unit_test') unitTests[n.uniqueId] = nodeEntry(a, n);
    else nodes[n.uniqueId] = nodeEntry(a, n);
    if (kind !== 'unit_test') {
      parentMap[n.uniqueId] = kind === 'source' ? [] : [...n.dependsOn].sort();
      childMap[n.uniqueId] = [...(a.graph.children.get(n.uniqueId) ?? [])]
        .filter((c) => a.graph.nodes.get(c)?.resourceType !== 'unit_test')
        .sort();
    }
  }
  const project = a.compiler.o.project.root.name;
  return {
    metadata: {
      ...metadata(a, 'manifest/v12'),
      project_name: project,
      project_id: createHash('md5').update(project).digest('hex'),
      user_id: null,
      send_anonymous_usage_stats: false,
      adapter_type: 'postgres',
      quoting: { database: true, schema: true, identifier: true, column: null },
    },
    nodes,
    sources,
    macros: {},
    docs: {},
    exposures: {},
    metrics: {},
    groups: {},
    selectors: Object.fromEntries(
      a.compiler.o.project.selectors.map((s) => [
        s.name,
        { name: s.name, description: s.description, definition: s.definition },
      ]),
    ),
    disabled: {},
    parent_map: parentMap,
    child_map: childMap,
    group_map: {},
    saved_queries: {},
    semantic_models: {},
    unit_tests: unitTests,
  };
}

export function buildRunResults(a: RunArtifacts, args: Record<string, unknown>): Record<string, unknown> {
  return {
    metadata: metadata(a, 'run-results/v6'),
    results: a.results.map((r) => {
      const isOperation = r.uniqueId.startsWith('operation.');
      const kind = a.graph.nodes.get(r.uniqueId)?.resourceType ?? 'model';
      const isTest = kind === 'test' || kind === 'unit_test' || isOperation;
      return {
        status: r.status,
        timing: r.timing,
        thread_id: 'Thread-1',
        execution_time: r.seconds,
        adapter_response:
          r.status === 'success' && !isTest
            ? { _message: `INSERT 0 ${r.rowsAffected ?? 0}`, code: 'INSERT', rows_affected: r.rowsAffected ?? 0 }
            : {},
        message:
          r.message ?? (r.status === 'success' ? (kind === 'seed' ? `INSERT ${r.rowsAffected ?? 0}` : 'OK') : null),
        failures: isTest && !isOperation ? (r.failures ?? (r.status === 'pass' ? 0 : null)) : null,
        unique_id: r.uniqueId,
        compiled: r.compiledSql !== null,
        compiled_code: r.compiledSql,
        relation_name: r.relationName,
        batch_results: null,
      };
    }),
    elapsed_time: a.elapsed,
    args,
  };
}

/** catalog.json: what PostgreSQL holds for every model, seed, snapshot and source relation. */
export async function buildCatalog(a: RunArtifacts, session: PgSession): Promise<Record<string, unknown>> {
  const wanted = new Map<string, { id: string; kind: 'nodes' | 'sources' }>();
  for (const n of a.graph.nodes.values()) {
    const kind = n.resourceType ?? 'model';
    if (kind === 'test' || kind === 'unit_test' || n.materialized === 'ephemeral') continue;
    const rel =
      kind === 'source'
        ? a.compiler.relationForSource(...((n.sourceKey ?? '.').split('.') as [string, string]))
        : a.compiler.relationFor(n);
    wanted.set(`${rel.schema}.${rel.identifier}`, { id: n.uniqueId, kind: kind === 'source' ? 'sources' : 'nodes' });
  }
  const schemas = [...new Set([...wanted.keys()].map((k) => k.slice(0, k.indexOf('.'))))];
  const r = await session.query(
    `select n.nspname as table_schema, c.relname as table_name,
            case when c.relkind = 'v' then 'VIEW' when c.relkind = 'm' then 'MATERIALIZED VIEW' else 'BASE TABLE' end as table_type,
            d.description as table_comment, a.attname as column_name, a.attnum as column_index,
            pg_catalog.format_type(a.atttypid, null) as column_type, col_description(c.oid, a.attnum) as column_comment,
            pg_get_userbyid(c.relowner) as table_owner
       from pg_catalog.pg_namespace n
       join pg_catalog.pg_class c on c.relnamespace = n.oid
       left join pg_catalog.pg_description d on d.objoid = c.oid and d.objsubid = 0
       join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      where n.nspname = any($1) and c.relkind in ('r', 'v', 'f', 'p', 'm')
      order by n.nspname, c.relname, a.attnum`,
    [schemas],
  );
  const out: Record<'nodes' | 'sources', Record<string, Record<string, unknown>>> = { nodes: {}, sources: {} };
  for (const row of r.rows) {
    const hit = wanted.get(`${String(row.table_schema)}.${String(row.table_name)}`);
    if (!hit) continue;
    let entry = out[hit.kind][hit.id];
    if (!entry) {
      entry = {
        metadata: {
          type: row.table_type,
          schema: row.table_schema,
          name: row.table_name,
          database: a.compiler.o.target.database,
          comment: row.table_comment ?? null,
          owner: row.table_owner,
        },
        columns: {},
        stats: {
          has_stats: {
            id: 'has_stats',
            label: 'Has Stats?',
            value: false,
            include: false,
            description: 'Indicates whether there are statistics for this table',
          },
        },
        unique_id: hit.id,
      };
      out[hit.kind][hit.id] = entry;
    }
    (entry.columns as Record<string, unknown>)[String(row.column_name)] = {
      type: row.column_type,
      index: Number(row.column_index),
      name: row.column_name,
      comment: row.column_comment ?? null,
    };
  }
  return { metadata: metadata(a, 'catalog/v1'), nodes: out.nodes, sources: out.sources, errors: null };
}

export function writeArtifact(projectDir: string, name: string, content: unknown): string {
  const dir = path.join(projectDir, 'target');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify(content, null, 2));
  return file;
}

/** target/compiled/<package>/<path>, as dbt compile writes them. */
export function writeCompiled(projectDir: string, a: RunArtifacts): number {
  let count = 0;
  for (const [id, sql] of a.compiled) {
    const n = a.graph.nodes.get(id);
    if (!n) continue;
    const rel =
      n.resourceType === 'test' && n.test?.kind === 'generic'
        ? path.posix.join(path.posix.dirname(n.file), n.name + '.sql')
        : n.file;
    const file = path.join(projectDir, 'target', 'compiled', n.packageName, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, sql);
    count++;
  }
  return count;
}
