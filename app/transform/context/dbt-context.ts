import { createHash } from 'node:crypto';
import YAML from 'yaml';
import { EngineError } from '../../core/engine-error';
import type { Logger } from '../../core/logger';
import { ReturnSignal } from '../jinja';
import { pyJsonDumps } from '../jinja/filters';
import { callable, isMapping, mapGet, Namespace, pyIter, pyStr, toJs, tuple } from '../jinja/values';
import type { PgSession } from '../materialize/pg-session';
import type { ConfigMap } from '../project/types';
import { AgateTable, statementResult, type StatementResult } from './agate';
import { Column, columnApi } from './column';
import { datetimeModule, PyDateTime, pytzModule } from './py-datetime';
import { reModule } from './py-re';
import { quoteIdent, Relation, type RelationType } from './relation';

/**
 * The dbt context a template sees. One builder, two modes: `parse` (the recording context:
 * ref/source/config record, `execute` is false, nothing touches the database) and `run`
 * (the live context: ref resolves to relations, statement/run_query await PostgreSQL).
 */
export interface TargetInfo {
  name: string;
  schema: string;
  database: string;
  type: 'postgres';
  threads: number;
  user: string;
  host: string;
  port: number;
  dbname: string;
  /** The profiles.yml profile the target came from (`target.profile_name`). */
  profileName?: string;
}

export interface Recorder {
  refs: { packageName: string | null; name: string }[];
  /** `package.macro` of every macro the render looked up. */
  macros?: Set<string>;
  sources: { source: string; table: string }[];
  config: ConfigMap;
}

export interface ContextInput {
  mode: 'parse' | 'run';
  packageName: string;
  /** Model name (null for hooks / project-level renders). */
  modelName: string | null;
  target: TargetInfo;
  env: Record<string, string>;
  /** Project vars (global + package-scoped resolved for this package) overridden by --vars. */
  vars: Record<string, unknown>;
  invocationId: string;
  runStartedAt: string;
  logger: Logger;
  recorder?: Recorder;
  /** The model's resolved config (run mode: `config.get`). */
  config: ConfigMap;
  thisRelation: Relation | null;
  isIncremental: boolean;
  fullRefresh: boolean;
  session: PgSession | null;
  resolveRef: (packageName: string | null, name: string) => Relation;
  resolveSource: (source: string, table: string) => Relation;
  /** Called for `results` in on-run-end. */
  results?: unknown[];
  /** Extra entries (macro namespaces, `model`, …). */
  extra?: Record<string, unknown>;
  /** Dispatch: find `<adapter>__name` / `default__name` macros in the search order. */
  dispatch?: (name: string, namespace: string | null) => unknown;
  onWarning?: (message: string) => void;
  /** dbt's `graph` (nodes, sources, …), built on first use. */
  graph?: () => unknown;
  /** `selected_resources`: unique ids of the nodes this invocation selected. */
  selectedResources?: string[];
  /** `flags.WHICH`: the dbt command running (run, build, compile, …). */
  which?: string;
}

/** The dbt version we answer to `dbt_version` (the dbt-core line whose behaviour we follow). */
export const DBT_VERSION = '1.10.0';

/** Python-ish kwargs merge: positional arguments first, then keywords by name. */
function arg(
  args: unknown[],
  kwargs: Record<string, unknown>,
  index: number,
  name: string,
  fallback: unknown = undefined,
): unknown {
  if (args.length > index) return args[index];
  if (Object.prototype.hasOwnProperty.call(kwargs, name)) return kwargs[name];
  return fallback;
}

export function templateError(message: string, details?: Record<string, unknown>): EngineError {
  return new EngineError('TEMPLATE_RUNTIME', message, details ? { details } : {});
}

/**
 * dbt's `as_bool` / `as_number` / `as_native` / `as_text` filters. In dbt they return *markers*:
 * strings (`"5"|as_number` prints `5`, and `"5"|as_number + 1` is str + int) that only become
 * native values when a whole YAML value (profiles.yml, dbt_project.yml configs) renders to one
 * marker — `nativeValue()` below does that conversion for such renders.
 */
export const dbtFilters = {
  as_text: (v: unknown) => (v === null || v === undefined ? '' : pyStr(v)),
  as_bool: (v: unknown) => pyStr(v),
  as_number: (v: unknown) => pyStr(v),
  as_native: (v: unknown) => pyStr(v),
};

/** The native value of a YAML field that rendered to `text` through as_number/as_bool/as_native. */
export function nativeValue(text: string): unknown {
  const t = text.trim();
  if (/^[+-]?\d+$/.test(t)) return Number(t);
  if (/^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$/.test(t)) return Number(t);
  if (t === 'True' || t === 'true') return true;
  if (t === 'False' || t === 'false') return false;
  if (t === 'None') return null;
  try {
    return YAML.parse(t) as unknown;
  } catch {
    return text;
  }
}

export function buildDbtContext(c: ContextInput): Record<string, unknown> {
  const execute = c.mode === 'run';
  const statements = new Map<string, StatementResult>();

  const runSql = async (sql: string): Promise<StatementResult> => {
    if (!c.session) throw templateError('This template ran a query, but no database connection is open here.');
    try {
      return statementResult(await c.session.script(sql));
    } catch (error) {
      const e = error as { message?: string };
      throw new EngineError(
        'MODEL_RUN',
        `A query run while rendering ${c.modelName ?? 'a hook'} failed: ${e.message ?? String(error)}`,
        {
          cause: error,
          details: {
            ...(c.modelName ? { model: c.modelName } : {}),
            sqlFragment: sql.length > 400 ? `${sql.slice(0, 400)}…` : sql,
          },
        },
      );
    }
  };

  const ref = callable((args, kwargs) => {
    const a = args.map((x) => pyStr(x));
    const pkg = a.length >= 2 ? a[0]! : ((kwargs.package as string | undefined) ?? null);
    const name = a.length >= 2 ? a[1]! : a[0];
    if (!name) throw templateError('ref() needs a model name.');
    c.recorder?.refs.push({ packageName: pkg, name });
    if (c.mode === 'parse') {
      try {
        return c.resolveRef(pkg, name);
      } catch {
        return new Relation({ database: c.target.database, schema: c.target.schema, identifier: name, type: 'table' });
      }
    }
    return c.resolveRef(pkg, name);
  });

  const source = callable((args) => {
    const [s, t] = args.map((x) => pyStr(x));
    if (!s || !t) throw templateError('source() needs a source name and a table name.');
    c.recorder?.sources.push({ source: s, table: t });
    // An undeclared source is a parse error, as in dbt (the project stops before anything runs).
    return c.resolveSource(s, t);
  });

  const configGet = callable((args, kwargs) => {
    const key = pyStr(arg(args, kwargs, 0, 'name'));
    const fallback = arg(args, kwargs, 1, 'default', null);
    const merged = { ...c.config, ...(c.recorder?.config ?? {}) };
    return Object.prototype.hasOwnProperty.call(merged, key) ? merged[key] : fallback;
  });
  const config = Object.assign(
    callable((args, kwargs) => {
      const fromDict = args[0] && isMapping(args[0]) ? (toJs(args[0]) as Record<string, unknown>) : {};
      const values = { ...fromDict, ...(toJs(kwargs) as Record<string, unknown>) };
      if (c.recorder) for (const [k, v] of Object.entries(values)) c.recorder.config[k.replace(/-/g, '_')] = v;
      return '';
    }),
    {
      get: configGet,
      require: callable((args) => {
        const key = pyStr(args[0]);
        const merged = { ...c.config, ...(c.recorder?.config ?? {}) };
        if (!(key in merged)) throw templateError(`Model ${c.modelName ?? ''} needs the config "${key}".`);
        return merged[key];
      }),
      set: callable((args) => {
        if (c.recorder) c.recorder.config[pyStr(args[0])] = toJs(args[1]);
        return '';
      }),
      persist_relation_docs: callable(() => false),
      persist_column_docs: callable(() => false),
    },
  );

  const var_ = callable((args, kwargs) => {
    const name = pyStr(arg(args, kwargs, 0, 'name'));
    if (Object.prototype.hasOwnProperty.call(c.vars, name)) return c.vars[name];
    const hasDefault = args.length > 1 || Object.prototype.hasOwnProperty.call(kwargs, 'default');
    if (hasDefault) return arg(args, kwargs, 1, 'default', null);
    throw templateError(
      `Required var '${name}' is not set${c.modelName ? ` (model ${c.modelName})` : ''}. Define it under vars: in dbt_project.yml or pass --vars "{${name}: …}".`,
      { var: name },
    );
  });

  const envVar = callable((args, kwargs) => {
    const name = pyStr(arg(args, kwargs, 0, 'var'));
    if (Object.prototype.hasOwnProperty.call(c.env, name)) return c.env[name];
    const hasDefault = args.length > 1 || Object.prototype.hasOwnProperty.call(kwargs, 'default');
    if (hasDefault) return arg(args, kwargs, 1, 'default');
    throw templateError(
      `Environment variable ${name} is required by ${c.modelName ? `model ${c.modelName}` : 'this project'} but is not set. Set ${name} or give env_var() a default.`,
      { envVar: name },
    );
  });

  const statement = callable(async (args, kwargs) => {
    const name = pyStr(arg(args, kwargs, 0, 'name', 'statement'));
    const fetch = Boolean(arg(args, kwargs, 1, 'fetch_result', false));
    const caller = kwargs.caller as ((a: unknown[], k: Record<string, unknown>) => unknown) | undefined;
    const sql = caller ? pyStr(await caller([], {})) : '';
    if (!execute) {
      statements.set(name, {
        response: { _message: '', code: '', rows_affected: 0 },
        table: AgateTable.empty(),
        data: [],
      });
      return '';
    }
    const result = await runSql(sql);
    if (fetch || name) statements.set(name, result);
    return '';
  });

  const loadResult = callable((args) => {
    const name = pyStr(args[0]);
    const r = statements.get(name);
    if (r) return r;
    if (!execute) return { response: null, table: new ParseTimeTable(), data: [] };
    return null;
  });

  const runQuery = callable(async (args, kwargs) => {
    const sql = pyStr(arg(args, kwargs, 0, 'sql'));
    if (!execute) return AgateTable.empty();
    const r = await runSql(sql);
    statements.set('run_query_statement', r);
    return r.table;
  });

  const log = callable((args, kwargs) => {
    const msg = pyStr(arg(args, kwargs, 0, 'msg', ''));
    const info = Boolean(arg(args, kwargs, 1, 'info', false));
    if (execute) c.logger[info ? 'info' : 'debug'](msg, { model: c.modelName ?? undefined });
    return '';
  });

  // dbt's Relation.create leaves out what it is not given (no default database or schema).
  const relationCreate = callable((args, kwargs) => {
    const database = arg(args, kwargs, 0, 'database', null);
    const schema = arg(args, kwargs, 1, 'schema', null);
    const identifier = arg(args, kwargs, 2, 'identifier', null);
    const type = arg(args, kwargs, 3, 'type', null);
    return new Relation({
      database: database === null || database === undefined ? null : pyStr(database),
      schema: schema === null || schema === undefined ? null : pyStr(schema),
      identifier: identifier === null ? '' : pyStr(identifier),
      type: (type === null ? null : pyStr(type)) as RelationType,
    });
  });

  const adapter: Record<string, unknown> = {
    type: callable(() => 'postgres'),
    quote: callable((args) => quoteIdent(pyStr(args[0]))),
    quote_as_configured: callable((args) => quoteIdent(pyStr(args[0]))),
    commit: callable(async () => {
      if (execute && c.session) await c.session.query('commit').catch(() => undefined);
      return '';
    }),
    load_relation: callable(async (args, kwargs) => {
      const rel = arg(args, kwargs, 0, 'relation');
      if (!(rel instanceof Relation)) return null;
      return (adapter.get_relation as (a: unknown[], k: Record<string, unknown>) => Promise<unknown>)(
        [rel.database, rel.schema, rel.identifier],
        {},
      );
    }),
    get_relation: callable(async (args, kwargs) => {
      const database = pyStr(arg(args, kwargs, 0, 'database', c.target.database) ?? c.target.database);
      const schema = pyStr(arg(args, kwargs, 1, 'schema', c.target.schema));
      const identifier = pyStr(arg(args, kwargs, 2, 'identifier', ''));
      if (!execute || !c.session) return null;
      const r = await c.session.query(
        `select c.relkind from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2`,
        [schema, identifier],
      );
      const kind = r.rows[0]?.relkind as string | undefined;
      if (!kind) return null;
      const type: RelationType = kind === 'v' ? 'view' : kind === 'm' ? 'materialized_view' : 'table';
      return new Relation({ database, schema, identifier, type });
    }),
    // dbt-postgres reads information_schema.columns: name, type, char length, precision, scale.
    get_columns_in_relation: callable(async (args, kwargs) => {
      const rel = arg(args, kwargs, 0, 'relation');
      if (!execute || !c.session || !(rel instanceof Relation)) return [];
      const r = await c.session.query(
        `select column_name, data_type, character_maximum_length, numeric_precision, numeric_scale from information_schema.columns where table_name = $1 and ($2::text is null or table_schema = $2) order by ordinal_position`,
        [rel.identifier, rel.schema],
      );
      const n = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
      return r.rows.map(
        (x) =>
          new Column(
            String(x.column_name),
            String(x.data_type),
            n(x.character_maximum_length),
            n(x.numeric_precision),
            n(x.numeric_scale),
          ),
      );
    }),
    get_missing_columns: callable(async (args) => {
      const [from, to] = args;
      const cols = async (rel: unknown): Promise<Column[]> =>
        (await (adapter.get_columns_in_relation as (a: unknown[], k: Record<string, unknown>) => Promise<Column[]>)(
          [rel],
          {},
        )) ?? [];
      const target = new Set((await cols(to)).map((x) => x.name));
      return (await cols(from)).filter((x) => !target.has(x.name));
    }),
    list_relations_without_caching: callable(async (args) => {
      const rel = args[0];
      if (!execute || !c.session || !(rel instanceof Relation) || !rel.schema) return AgateTable.empty();
      return (await runSql(relationsSql(rel.schema))).table;
    }),
    drop_relation: callable(async (args, kwargs) => {
      const rel = arg(args, kwargs, 0, 'relation');
      if (!execute || !c.session || !(rel instanceof Relation)) return '';
      const kind = rel.type === 'view' ? 'view' : rel.type === 'materialized_view' ? 'materialized view' : 'table';
      await c.session.query(`drop ${kind} if exists ${rel.qualified} cascade`);
      return '';
    }),
    truncate_relation: callable(async (args) => {
      const rel = args[0];
      if (execute && c.session && rel instanceof Relation) await c.session.query(`truncate table ${rel.qualified}`);
      return '';
    }),
    rename_relation: callable(async (args) => {
      const [from, to] = args;
      if (!execute || !c.session || !(from instanceof Relation) || !(to instanceof Relation)) return '';
      const kind = from.type === 'view' ? 'view' : from.type === 'materialized_view' ? 'materialized view' : 'table';
      await c.session.query(`alter ${kind} ${from.qualified} rename to ${quoteIdent(to.identifier)}`);
      return '';
    }),
    create_schema: callable(async (args) => {
      const rel = args[0];
      if (execute && c.session && rel instanceof Relation && rel.schema)
        await c.session.query(`create schema if not exists ${quoteIdent(rel.schema)}`);
      return '';
    }),
    drop_schema: callable(async (args) => {
      const rel = args[0];
      if (execute && c.session && rel instanceof Relation && rel.schema)
        await c.session.query(`drop schema if exists ${quoteIdent(rel.schema)} cascade`);
      return '';
    }),
    check_schema_exists: callable(async (args) => {
      if (!execute || !c.session) return false;
      const r = await c.session.query(`select 1 from pg_catalog.pg_namespace where nspname = $1`, [
        pyStr(args[1] ?? args[0]),
      ]);
      return r.rows.length > 0;
    }),
    list_schemas: callable(async () => {
      if (!execute || !c.session) return [];
      const r = await c.session.query(`select nspname from pg_catalog.pg_namespace order by 1`);
      return r.rows.map((x) => x.nspname);
    }),
    expand_target_column_types: callable(() => ''),
    get_column_schema_from_query: callable(async (args) => {
      if (!execute || !c.session) return [];
      const r = await c.session.query(pyStr(args[0]));
      const types = await c.session.query(
        `select oid, format_type(oid, null) as t from pg_catalog.pg_type where oid = any($1::oid[])`,
        [r.fields.map((f) => f.dataTypeID)],
      );
      const byOid = new Map(types.rows.map((x) => [Number(x.oid), String(x.t)]));
      return r.fields.map((f) => Column.fromDescription(f.name, byOid.get(f.dataTypeID) ?? 'text'));
    }),
    behavior: {
      enable_truthy_nulls_equals_macro: { no_warn: false, setting: false },
      require_batched_execution_for_custom_microbatch_strategy: { no_warn: false, setting: false },
    },
    already_exists: callable(async (args) => {
      if (!execute || !c.session) return false;
      const r = await c.session.query(
        `select 1 from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2`,
        [pyStr(args[0]), pyStr(args[1])],
      );
      return r.rows.length > 0;
    }),
    dispatch: callable((args, kwargs) => {
      const name = pyStr(arg(args, kwargs, 0, 'macro_name'));
      const ns = arg(args, kwargs, 1, 'macro_namespace', null);
      if (!c.dispatch) throw templateError(`adapter.dispatch('${name}') is not available here.`);
      return c.dispatch(name, ns === null || ns === undefined ? null : pyStr(ns));
    }),
  };

  const exceptions = {
    raise_compiler_error: callable((args) => {
      throw new EngineError(
        'MODEL_COMPILE',
        `${c.modelName ? `Model ${c.modelName}: ` : ''}${pyStr(args[0])}`,
        c.modelName ? { details: { model: c.modelName } } : {},
      );
    }),
    warn: callable((args) => {
      const msg = pyStr(args[0]);
      c.logger.warn(msg, { model: c.modelName ?? undefined });
      c.onWarning?.(msg);
      return '';
    }),
    raise_not_implemented: callable((args) => {
      throw templateError(pyStr(args[0]));
    }),
    raise_fail_fast_error: callable((args) => {
      throw templateError(pyStr(args[0]));
    }),
    column_type_missing: callable((_a, kw) => {
      throw templateError(
        `Contracted models require data_type to be defined for each column. Please ensure that the column name and data_type are defined within the YAML configuration for the ${pyStr(kw.column_names)} column(s).`,
      );
    }),
  };

  const modelInfo = c.modelName
    ? {
        name: c.modelName,
        unique_id: `model.${c.packageName}.${c.modelName}`,
        package_name: c.packageName,
        resource_type: 'model',
        config: c.config,
        alias: c.thisRelation?.identifier ?? c.modelName,
        schema: c.thisRelation?.schema ?? c.target.schema,
        database: c.target.database,
      }
    : null;

  return {
    execute,
    // dbt's return(): ends the enclosing macro with a value.
    return: callable((args) => {
      throw new ReturnSignal(args[0] ?? null);
    }),
    // dbt keeps the originals here so a project overriding ref/source can still call them.
    builtins: {
      ref,
      source,
      config,
      var: var_,
      env_var: envVar,
      statement,
      load_result: loadResult,
      run_query: runQuery,
      log,
      return: callable((args) => {
        throw new ReturnSignal(args[0] ?? null);
      }),
    },
    ref,
    source,
    config,
    var: var_,
    env_var: envVar,
    statement,
    load_result: loadResult,
    run_query: runQuery,
    log,
    print: log,
    this: c.thisRelation,
    is_incremental: callable(() => execute && c.isIncremental),
    should_full_refresh: callable(() => c.fullRefresh),
    flags: {
      FULL_REFRESH: c.fullRefresh,
      WHICH: c.which ?? 'run',
      STORE_FAILURES: false,
      EMPTY: false,
      WARN_ERROR: false,
      FAIL_FAST: false,
      USE_COLORS: false,
      PARTIAL_PARSE: false,
      STATE_MODIFIED_COMPARE_MORE_UNRENDERED_VALUES: false,
      INTROSPECT: true,
      SEND_ANONYMOUS_USAGE_STATS: false,
    },
    target: (({ profileName, ...t }) => ({ ...t, profile_name: profileName ?? 'default', target_name: t.name }))(
      c.target,
    ),
    invocation_id: c.invocationId,
    run_started_at: new PyDateTime(Date.parse(c.runStartedAt) || Date.now(), true),
    project_name: c.packageName,
    model: modelInfo,
    adapter,
    api: {
      Relation: {
        create: relationCreate,
        add_ephemeral_prefix: callable(([name]) => `__dbt__cte__${pyStr(name)}`),
      },
      Column: columnApi,
    },
    exceptions,
    namespace: undefined as unknown,
    results: c.results ?? [],
    modules: { datetime: datetimeModule, pytz: pytzModule, re: reModule, itertools: itertoolsModule },
    // Python's json.dumps: ", " and ": " separators, ASCII escapes, sort_keys on request.
    tojson: callable((args, kwargs) =>
      pyJsonDumps(args[0], null, 0, Boolean(arg(args, kwargs, 1, 'sort_keys', false))),
    ),
    fromjson: callable((args) => {
      try {
        return JSON.parse(pyStr(args[0])) as unknown;
      } catch {
        return args[1] ?? null;
      }
    }),
    toyaml: callable((args) => YAML.stringify(toJs(args[0]))),
    fromyaml: callable((args) => YAML.parse(pyStr(args[0])) as unknown),
    // zip() yields tuples (a list here: printing a zip object is never wanted).
    zip: callable((args) => {
      const lists = args.map((a) => pyIter(a));
      const n = lists.length ? Math.min(...lists.map((l) => l.length)) : 0;
      return Array.from({ length: n }, (_, i) => tuple(lists.map((l) => l[i])));
    }),
    set: callable((args) => new Set(args[0] === undefined ? [] : pyIter(args[0]))),
    local_md5: callable((args) => createHash('md5').update(pyStr(args[0])).digest('hex')),
    dbt_version: DBT_VERSION,
    selected_resources: c.selectedResources ?? [],
    get graph(): unknown {
      return c.graph
        ? c.graph()
        : {
            nodes: {},
            sources: {},
            exposures: {},
            metrics: {},
            groups: {},
            semantic_models: {},
            saved_queries: {},
            unit_tests: {},
          };
    },
    ...c.extra,
  };
}

/** At parse time a statement's result is a stand-in: any column has one None value. */
class ParseTimeTable {
  readonly column_names: string[] = [];
  readonly rows: unknown[][] = [];
  readonly columns = new Proxy(new Map<unknown, unknown>(), {
    get(target, prop, receiver) {
      if (prop === 'get') return (k: unknown) => ({ name: k, values: callable(() => [null]) });
      if (prop === 'has') return () => true;
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** The SQL listing a schema's relations the way dbt-postgres's list_relations does. */
function relationsSql(schema: string): string {
  const lit = `'${schema.replace(/'/g, "''")}'`;
  return `select current_database() as database, tablename as name, schemaname as schema, 'table' as type from pg_tables where schemaname ilike ${lit}
union all select current_database(), viewname, schemaname, 'view' from pg_views where schemaname ilike ${lit}
union all select current_database(), matviewname, schemaname, 'materialized_view' from pg_matviews where schemaname ilike ${lit}`;
}

const itertoolsModule = {
  chain: callable((args) => args.flatMap((a) => pyIter(a))),
  product: callable((args) =>
    args
      .map((a) => pyIter(a))
      .reduce<unknown[][]>((acc, xs) => acc.flatMap((p) => xs.map((x) => [...p, x])), [[]])
      .map((p) => tuple(p)),
  ),
  combinations: callable(([it, r]) => {
    const xs = pyIter(it);
    const k = Number(r);
    const out: unknown[] = [];
    const rec = (start: number, cur: unknown[]): void => {
      if (cur.length === k) {
        out.push(tuple([...cur]));
        return;
      }
      for (let i = start; i < xs.length; i++) rec(i + 1, [...cur, xs[i]]);
    };
    rec(0, []);
    return out;
  }),
};

export { mapGet, Namespace };
