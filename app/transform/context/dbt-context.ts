import YAML from 'yaml';
import { EngineError } from '../../core/engine-error';
import type { Logger } from '../../core/logger';
import { ReturnSignal } from '../jinja';
import { callable, isMapping, mapGet, Namespace, pyStr, toJs } from '../jinja/values';
import type { PgSession } from '../materialize/pg-session';
import type { ConfigMap } from '../project/types';
import { AgateTable, statementResult, type StatementResult } from './agate';
import { datetimeModule, PyDateTime } from './py-datetime';
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
}

/** Python-ish kwargs merge: positional arguments first, then keywords by name. */
function arg(args: unknown[], kwargs: Record<string, unknown>, index: number, name: string, fallback: unknown = undefined): unknown {
  if (args.length > index) return args[index];
  if (Object.prototype.hasOwnProperty.call(kwargs, name)) return kwargs[name];
  return fallback;
}

export function templateError(message: string, details?: Record<string, unknown>): EngineError {
  return new EngineError('TEMPLATE_RUNTIME', message, details ? { details } : {});
}

/** dbt's `as_bool` / `as_number` / `as_native` / `as_text` filters. */
export const dbtFilters = {
  as_text: (v: unknown) => (v === null || v === undefined ? '' : pyStr(v)),
  as_bool: (v: unknown) => {
    if (typeof v === 'boolean') return v;
    const s = pyStr(v).trim().toLowerCase();
    if (s === 'true') return true;
    if (s === 'false') return false;
    return v;
  },
  as_number: (v: unknown) => {
    if (typeof v === 'number') return v;
    const n = Number(pyStr(v).trim());
    if (pyStr(v).trim() !== '' && Number.isFinite(n)) return n;
    throw templateError(`as_number: ${pyStr(v)} is not a number`);
  },
  as_native: (v: unknown) => {
    if (typeof v !== 'string') return v;
    try {
      return YAML.parse(v) as unknown;
    } catch {
      return v;
    }
  },
};

export function buildDbtContext(c: ContextInput): Record<string, unknown> {
  const execute = c.mode === 'run';
  const statements = new Map<string, StatementResult>();

  const runSql = async (sql: string): Promise<StatementResult> => {
    if (!c.session) throw templateError('This template ran a query, but no database connection is open here.');
    try {
      return statementResult(await c.session.script(sql));
    } catch (error) {
      const e = error as { message?: string };
      throw new EngineError('MODEL_RUN', `A query run while rendering ${c.modelName ?? 'a hook'} failed: ${e.message ?? String(error)}`, {
        cause: error,
        details: { ...(c.modelName ? { model: c.modelName } : {}), sqlFragment: sql.length > 400 ? `${sql.slice(0, 400)}…` : sql },
      });
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
    if (c.mode === 'parse') {
      try {
        return c.resolveSource(s, t);
      } catch {
        return new Relation({ database: c.target.database, schema: c.target.schema, identifier: t, type: 'table' });
      }
    }
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
    throw templateError(`Required var '${name}' is not set${c.modelName ? ` (model ${c.modelName})` : ''}. Define it under vars: in dbt_project.yml or pass --vars "{${name}: …}".`, { var: name });
  });

  const envVar = callable((args, kwargs) => {
    const name = pyStr(arg(args, kwargs, 0, 'var'));
    if (Object.prototype.hasOwnProperty.call(c.env, name)) return c.env[name];
    const hasDefault = args.length > 1 || Object.prototype.hasOwnProperty.call(kwargs, 'default');
    if (hasDefault) return arg(args, kwargs, 1, 'default');
    throw templateError(`Environment variable ${name} is required by ${c.modelName ? `model ${c.modelName}` : 'this project'} but is not set. Set ${name} or give env_var() a default.`, { envVar: name });
  });

  const statement = callable(async (args, kwargs) => {
    const name = pyStr(arg(args, kwargs, 0, 'name', 'statement'));
    const fetch = Boolean(arg(args, kwargs, 1, 'fetch_result', false));
    const caller = kwargs.caller as ((a: unknown[], k: Record<string, unknown>) => unknown) | undefined;
    const sql = caller ? pyStr(await caller([], {})) : '';
    if (!execute) {
      statements.set(name, { response: { _message: '', code: '', rows_affected: 0 }, table: AgateTable.empty(), data: [] });
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

  const relationCreate = callable((args, kwargs) => {
    const database = arg(args, kwargs, 0, 'database', c.target.database);
    const schema = arg(args, kwargs, 1, 'schema', c.target.schema);
    const identifier = arg(args, kwargs, 2, 'identifier', null);
    const type = arg(args, kwargs, 3, 'type', null);
    return new Relation({
      database: database === null || database === undefined ? null : pyStr(database),
      schema: schema === null || schema === undefined ? null : pyStr(schema),
      identifier: identifier === null ? '' : pyStr(identifier),
      type: (type === null ? null : pyStr(type)) as RelationType,
    });
  });

  const adapter = {
    type: callable(() => 'postgres'),
    quote: callable((args) => quoteIdent(pyStr(args[0]))),
    quote_as_configured: callable((args) => quoteIdent(pyStr(args[0]))),
    commit: callable(async () => {
      if (execute && c.session) await c.session.query('commit').catch(() => undefined);
      return '';
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
    get_columns_in_relation: callable(async (args) => {
      const rel = args[0];
      if (!execute || !c.session || !(rel instanceof Relation)) return [];
      const r = await c.session.query(
        `select a.attname as name, format_type(a.atttypid, a.atttypmod) as data_type from pg_catalog.pg_attribute a where a.attrelid = to_regclass($1) and a.attnum > 0 and not a.attisdropped order by a.attnum`,
        [rel.qualified],
      );
      return r.rows.map((x) => ({ name: x.name, column: x.name, data_type: x.data_type, dtype: x.data_type, quoted: quoteIdent(String(x.name)) }));
    }),
    already_exists: callable(async (args) => {
      if (!execute || !c.session) return false;
      const r = await c.session.query(`select 1 from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2`, [pyStr(args[0]), pyStr(args[1])]);
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
      throw new EngineError('MODEL_COMPILE', `${c.modelName ? `Model ${c.modelName}: ` : ''}${pyStr(args[0])}`, c.modelName ? { details: { model: c.modelName } } : {});
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
  };

  const modelInfo = c.modelName
    ? { name: c.modelName, unique_id: `model.${c.packageName}.${c.modelName}`, package_name: c.packageName, resource_type: 'model', config: c.config, alias: c.thisRelation?.identifier ?? c.modelName, schema: c.thisRelation?.schema ?? c.target.schema, database: c.target.database }
    : null;

  return {
    execute,
    // dbt's return(): ends the enclosing macro with a value.
    return: callable((args) => {
      throw new ReturnSignal(args[0] ?? null);
    }),
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
    flags: { FULL_REFRESH: c.fullRefresh, WHICH: 'run' },
    target: c.target,
    invocation_id: c.invocationId,
    run_started_at: new PyDateTime(Date.parse(c.runStartedAt) || Date.now(), true),
    project_name: c.packageName,
    model: modelInfo,
    adapter,
    api: { Relation: { create: relationCreate } },
    exceptions,
    namespace: undefined as unknown,
    results: c.results ?? [],
    modules: { datetime: datetimeModule },
    tojson: callable((args) => JSON.stringify(toJs(args[0]))),
    fromjson: callable((args) => {
      try {
        return JSON.parse(pyStr(args[0])) as unknown;
      } catch {
        return args[1] ?? null;
      }
    }),
    toyaml: callable((args) => YAML.stringify(toJs(args[0]))),
    fromyaml: callable((args) => YAML.parse(pyStr(args[0])) as unknown),
    zip: callable((args) => {
      const lists = args.map((a) => (Array.isArray(a) ? a : []));
      const n = Math.min(...lists.map((l) => l.length));
      return Array.from({ length: n }, (_, i) => lists.map((l) => l[i]));
    }),
    set: callable((args) => [...new Set(Array.isArray(args[0]) ? args[0] : [])]),
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

export { mapGet, Namespace };
