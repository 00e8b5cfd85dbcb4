import { EngineError } from '../../core/engine-error';
import type { ProjectCompiler } from '../compile/project-compiler';
import { jinjaError } from '../context/macro-registry';
import { Relation } from '../context/relation';
import type { ModelNode } from '../graph/types';
import { ReturnSignal } from '../jinja';
import { callable, pyStr } from '../jinja/values';
import type { Recorder } from '../context/dbt-context';
import type { ConfigMap } from '../project/types';
import { TEST_DEFAULTS } from '../compile/resource-nodes';
import { ensureSchema } from '../materialize/catalog';
import { queryError, type PgSession } from '../materialize/pg-session';

/**
 * Data tests (generic and singular) as dbt runs them: the test query selects the failing
 * rows; dbt wraps it as `select count(*) as failures, count(*) <warn_if> as should_warn,
 * count(*) <error_if> as should_error from (<query> [limit n]) dbt_internal_test` and reads
 * the status: fail when severity is error and should_error, warn when should_warn, else pass.
 * `store_failures` keeps the failing rows in `<target schema>_dbt_test__audit.<test name>`.
 */
export type TestStatus = 'pass' | 'fail' | 'warn' | 'error';

export interface TestOutcome {
  status: TestStatus;
  failures: number;
  message: string | null;
  /** The compiled query that selects the failing rows (what the user runs to see them). */
  sql: string;
  /** Up to 20 failing rows, for the run history. */
  sample: Record<string, unknown>[];
  /** Where the failing rows were stored, with store_failures. */
  storedIn: string | null;
}

const LOOKS_LIKE_FUNC = /^\s*(env_var|ref|var|source|doc)\s*\(.+\)\s*$/s;

/** Evaluate a Jinja expression to its value (dbt's native rendering of test arguments). */
export async function evaluate(
  compiler: ProjectCompiler,
  expr: string,
  ctx: Record<string, unknown>,
  where: { model: string; file: string },
): Promise<unknown> {
  try {
    await compiler.registry.envs.run.parse(`{% do return(${expr}) %}`, `${where.file}:argument`).render(ctx);
  } catch (error) {
    if (error instanceof ReturnSignal) return error.value;
    throw jinjaError(error, where);
  }
  return null;
}

/** dbt's add_rendered_test_kwargs: ref()/source()/var()… become values, other Jinja renders to text. */
async function renderKwargs(
  compiler: ProjectCompiler,
  value: unknown,
  keyPath: string[],
  ctx: Record<string, unknown>,
  where: { model: string; file: string },
): Promise<unknown> {
  if (typeof value === 'string') {
    if (keyPath.length === 1 && keyPath[0] === 'column_name') return value;
    if (LOOKS_LIKE_FUNC.test(value)) return evaluate(compiler, value, ctx, where);
    if (value.includes('{{') || value.includes('{%'))
      return compiler.renderString(value, `${where.file}:${keyPath.join('.')}`, ctx, where);
    return value;
  }
  if (Array.isArray(value))
    return Promise.all(value.map((v, i) => renderKwargs(compiler, v, [...keyPath, String(i)], ctx, where)));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = await renderKwargs(compiler, v, [...keyPath, k], ctx, where);
    return out;
  }
  return value;
}

function sqlLiteral(v: unknown): string {
  return `'${pyStr(v).replace(/'/g, "''")}'`;
}

/**
 * The four generic tests of dbt's global project (dbt-adapters default__test_*), for when no macro
 * defines them: the text dbt renders, whitespace included (the `{% test %}` wrapper adds
 * "\n    \n    " before and "\n" after), so compiled_code matches dbt's.
 */
function builtinTestSql(name: string, kw: Record<string, unknown>): string | null {
  const model = pyStr(kw.model);
  const col = kw.column_name === undefined || kw.column_name === null ? null : pyStr(kw.column_name);
  const wrap = (body: string): string => `\n    \n    \n\n${body}\n\n\n`;
  switch (name) {
    case 'not_null':
      return wrap(`\n\nselect ${kw.store_failures === true ? '*' : col}\nfrom ${model}\nwhere ${col} is null`);
    case 'unique':
      return wrap(
        `select\n    ${col} as unique_field,\n    count(*) as n_records\n\nfrom ${model}\nwhere ${col} is not null\ngroup by ${col}\nhaving count(*) > 1`,
      );
    case 'accepted_values': {
      const values = Array.isArray(kw.values) ? kw.values : [];
      const quote = kw.quote !== false;
      return wrap(
        `with all_values as (\n\n    select\n        ${col} as value_field,\n        count(*) as n_records\n\n    from ${model}\n    group by ${col}\n\n)\n\nselect *\nfrom all_values\nwhere value_field not in (\n    ${values.map((v) => (quote ? sqlLiteral(v) : pyStr(v))).join(',')}\n)`,
      );
    }
    case 'relationships': {
      const to = pyStr(kw.to);
      const field = pyStr(kw.field);
      return wrap(
        `with child as (\n    select ${col} as from_field\n    from ${model}\n    where ${col} is not null\n),\n\nparent as (\n    select ${field} as to_field\n    from ${to}\n)\n\nselect\n    from_field\n\nfrom child\nleft join parent\n    on child.from_field = parent.to_field\n\nwhere parent.to_field is null`,
      );
    }
    default:
      return null;
  }
}

/**
 * The compiled query of a data test (the failing rows). `config()` calls inside the test
 * (e.g. dbt_utils' `config(fail_calc = …)`) are recorded into `macroConfig`.
 */
export async function compileTest(
  compiler: ProjectCompiler,
  node: ModelNode,
  session: PgSession,
  macroConfig: ConfigMap = {},
): Promise<string> {
  const where = { model: node.name, file: `${node.packageName}/${node.file}` };
  const recorder: Recorder = { refs: [], sources: [], config: macroConfig };
  const ctes = new Set<string>();
  const ctx = compiler.context(
    compiler.baseContext({
      mode: 'run',
      packageName: node.packageName,
      modelName: node.name,
      config: node.config,
      thisRelation: null,
      session,
      recorder,
      resolveRef: compiler.refTrackingCtes(node.packageName, ctes),
    }),
  );
  // Ephemeral models the test refers to become CTEs of its query, as dbt injects them.
  const inject = (sql: string): Promise<string> =>
    ctes.size
      ? compiler.withEphemerals(sql, ctes, {
          node,
          session,
          relation: compiler.relationFor(node),
          isIncremental: false,
          fullRefresh: false,
        })
      : Promise.resolve(sql);
  // The test context's own helpers (dbt's TestContext / materialization globals).
  const define = (name: string, value: unknown): void => {
    Object.defineProperty(ctx, name, { value, configurable: true, enumerable: true, writable: true });
  };
  define(
    'should_store_failures',
    callable(() => node.config.store_failures === true || macroConfig.store_failures === true),
  );
  define(
    'should_full_refresh',
    callable(() => compiler.o.fullRefresh),
  );
  const t = node.test!;
  if (t.kind === 'singular') return inject(await compiler.renderFile(node, ctx));
  // `model`: the tested relation, filtered by the `where` config (dbt's get_where_subquery).
  let model: unknown = await evaluate(compiler, t.modelExpr!, ctx, where);
  const filter = node.config.where;
  if (typeof filter === 'string' && filter.trim()) {
    const rendered = await compiler.renderString(filter, `${where.file}:where`, ctx, where);
    model = `(select * from ${pyStr(model)} where ${rendered}) dbt_subquery`;
  }
  const kwargs = (await renderKwargs(compiler, t.kwargs, [], ctx, where)) as Record<string, unknown>;
  const all: Record<string, unknown> = { ...kwargs, model };
  const key = `test_${t.testName}`;
  const entry = t.namespace
    ? compiler.registry.byPackage.get(t.namespace)?.get(key)
    : compiler.registry.find(key, node.packageName);
  if (entry) {
    ctx.__dbt_generic_test_kwargs = all;
    const call = t.namespace ? `${t.namespace}.${key}` : key;
    return inject(
      await compiler.renderString(
        `{{ ${call}(**__dbt_generic_test_kwargs) }}`,
        `${where.file}:${node.name}`,
        ctx,
        where,
      ),
    );
  }
  const builtin = t.namespace === null || t.namespace === 'dbt' ? builtinTestSql(t.testName!, all) : null;
  if (builtin !== null) return inject(builtin);
  throw new EngineError(
    'MODEL_COMPILE',
    `Test ${node.name} (${where.file}) uses the generic test ${t.namespace ? `${t.namespace}.` : ''}${t.testName}, which no package defines (no {% test ${t.testName}(…) %} block or test_${t.testName} macro).`,
    { details: where },
  );
}

function cfgString(v: unknown, fallback: string): string {
  return typeof v === 'string' && v.trim() ? v : fallback;
}

export async function runTest(compiler: ProjectCompiler, node: ModelNode, session: PgSession): Promise<TestOutcome> {
  const where = { model: node.name, file: `${node.packageName}/${node.file}` };
  const macroConfig: ConfigMap = {};
  const sql = await compileTest(compiler, node, session, macroConfig);
  // A config() inside the test's SQL/macro sits between dbt's defaults and the YAML/project config.
  const c: ConfigMap = { ...node.config };
  for (const [k, v] of Object.entries(macroConfig)) if (c[k] === undefined || c[k] === TEST_DEFAULTS[k]) c[k] = v;
  const limit = c.limit === null || c.limit === undefined ? '' : `\n    limit ${Number(c.limit)}`;
  const failCalc = cfgString(c.fail_calc, 'count(*)');
  const wrapped = `select\n      ${failCalc} as failures,\n      ${failCalc} ${cfgString(c.warn_if, '!= 0')} as should_warn,\n      ${failCalc} ${cfgString(c.error_if, '!= 0')} as should_error\n    from (\n      ${sql}${limit}\n    ) dbt_internal_test`;
  let storedIn: string | null = null;
  const storeFailures = c.store_failures === true || c.store_failures_as === 'table' || c.store_failures_as === 'view';
  let counted;
  try {
    if (storeFailures) {
      const schema = `${typeof c.schema === 'string' && c.schema ? `${compiler.o.target.schema}_${c.schema}` : `${compiler.o.target.schema}_dbt_test__audit`}`;
      const rel = new Relation({
        database: compiler.o.target.database,
        schema,
        identifier: typeof c.alias === 'string' && c.alias ? c.alias : node.name.slice(0, 63),
        type: 'table',
      });
      await ensureSchema(session, schema);
      const asView = c.store_failures_as === 'view';
      await session.script(
        `drop table if exists ${rel.render()} cascade; drop view if exists ${rel.render()} cascade; create ${asView ? 'view' : 'table'} ${rel.render()} as (\n${sql}${limit}\n)`,
      );
      storedIn = rel.render();
      counted = await session.query(
        `select\n      ${failCalc} as failures,\n      ${failCalc} ${cfgString(c.warn_if, '!= 0')} as should_warn,\n      ${failCalc} ${cfgString(c.error_if, '!= 0')} as should_error\n    from ${rel.render()} dbt_internal_test`,
      );
    } else counted = await session.query(wrapped);
  } catch (error) {
    throw testQueryError(error, where, wrapped);
  }
  const row = counted.rows[0] ?? {};
  const failures = Number(row.failures ?? 0);
  const shouldWarn = row.should_warn === true;
  const shouldError = row.should_error === true;
  const severity = String(c.severity ?? 'error').toLowerCase();
  const status: TestStatus = severity === 'error' && shouldError ? 'fail' : shouldWarn ? 'warn' : 'pass';
  let sample: Record<string, unknown>[] = [];
  if (status !== 'pass') {
    sample = await session
      .query(`select * from (\n${sql}\n) dbt_failing_rows limit 20`)
      .then((r) => r.rows.map((x) => Object.fromEntries(Object.entries(x).map(([k, v]) => [k, jsonSafe(v)]))))
      .catch(() => []);
  }
  const noun = failures === 1 ? 'result' : 'results';
  const message =
    status === 'pass'
      ? null
      : `Got ${failures} ${noun}, configured to ${status} if ${status === 'fail' ? cfgString(c.error_if, '!= 0') : cfgString(c.warn_if, '!= 0')}`;
  return { status, failures, message, sql, sample, storedIn };
}

function jsonSafe(v: unknown): unknown {
  if (v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Date) return v.toISOString();
  if (Buffer.isBuffer(v)) return `\\x${v.toString('hex')}`;
  return JSON.parse(JSON.stringify(v)) as unknown;
}

function testQueryError(error: unknown, where: { model: string; file: string }, sql: string): EngineError {
  const e = queryError(error, { ...where, sql });
  return new EngineError('MODEL_RUN', e.message.replace(/^Model /, 'Test '), {
    cause: error,
    details: e.details ?? where,
  });
}
