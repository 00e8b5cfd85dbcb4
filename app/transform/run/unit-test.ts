import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { EngineError } from '../../core/engine-error';
import type { ProjectCompiler } from '../compile/project-compiler';
import { quoteIdent, Relation } from '../context/relation';
import type { ModelNode } from '../graph/types';
import { callable, pyStr } from '../jinja/values';
import { columnsOf } from '../materialize/catalog';
import { queryError, type PgSession } from '../materialize/pg-session';
import { parseCsv } from '../project/csv';
import type { UnitTestProps } from '../project/types';
import { evaluate, type TestOutcome } from './test-exec';

/**
 * dbt 1.8+ unit tests: the model's SQL runs against fixture rows instead of its inputs
 * (`given`: ref(…)/source(…)/this with rows as dict, csv or sql, inline or a fixture file),
 * and its result must equal `expect` (compared as multisets over the expected columns, cast
 * to the model's column types). `overrides` replace macros (a constant), vars and env vars.
 * Inputs' column types come from the relations as they exist in the warehouse, as in dbt.
 */
interface Fixture {
  rows: Record<string, unknown>[] | null;
  sql: string | null;
}

function rec(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function readFixture(compiler: ProjectCompiler, node: ModelNode, spec: Record<string, unknown>): Fixture {
  const format = typeof spec.format === 'string' ? spec.format : 'dict';
  let rows: unknown = spec.rows;
  if (typeof spec.fixture === 'string') {
    const pkg = compiler.o.project.packages.find((p) => p.name === node.packageName)!;
    const ext = format === 'sql' ? '.sql' : '.csv';
    const hit = pkg.project.testPaths
      .flatMap((tp) => [
        path.join(pkg.root, tp, 'fixtures', `${spec.fixture as string}${ext}`),
        path.join(pkg.root, tp, `${spec.fixture as string}${ext}`),
      ])
      .find((f) => existsSync(f));
    const found =
      hit ?? findFile(path.join(pkg.root, pkg.project.testPaths[0] ?? 'tests'), `${spec.fixture as string}${ext}`);
    if (!found)
      throw new EngineError(
        'MODEL_COMPILE',
        `Unit test ${node.name} (${node.packageName}/${node.file}): fixture ${spec.fixture as string}${ext} not found under ${pkg.project.testPaths.join(', ')}.`,
        { details: { model: node.name, file: node.file } },
      );
    rows = readFileSync(found, 'utf8');
  }
  if (format === 'sql') return { rows: null, sql: String(rows ?? '') };
  if (format === 'csv') {
    const table = parseCsv(String(rows ?? '').trim());
    const header = (table[0] ?? []).map((h) => h.trim());
    return {
      rows: table
        .slice(1)
        .map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] === undefined || r[i] === '' ? null : r[i]]))),
      sql: null,
    };
  }
  return { rows: Array.isArray(rows) ? rows.map(rec) : [], sql: null };
}

function findFile(dir: string, name: string): string | null {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return null;
  }
  for (const e of entries) {
    const full = path.join(dir, e);
    if (e === name) return full;
    if (statSync(full).isDirectory()) {
      const hit = findFile(full, name);
      if (hit) return hit;
    }
  }
  return null;
}

function literal(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'object') return `'${JSON.stringify(v).replace(/'/g, "''")}'`;
  return `'${String(v).replace(/'/g, "''")}'`;
}

/** Fixture rows as SQL with the given column types; columns a row omits are typed NULLs. */
function fixtureSql(f: Fixture, columns: { name: string; dataType: string }[]): string {
  if (f.sql !== null) return f.sql;
  const rows = f.rows ?? [];
  const lower = (r: Record<string, unknown>): Map<string, unknown> =>
    new Map(Object.entries(r).map(([k, v]) => [k.toLowerCase(), v]));
  if (!rows.length)
    return `select ${columns.map((c) => `cast(null as ${c.dataType}) as ${quoteIdent(c.name)}`).join(', ')} limit 0`;
  return rows
    .map((r) => {
      const m = lower(r);
      return `select ${columns.map((c) => `cast(${literal(m.get(c.name.toLowerCase()))} as ${c.dataType}) as ${quoteIdent(c.name)}`).join(', ')}`;
    })
    .join('\nunion all\n');
}

async function typeNames(session: PgSession, oids: number[]): Promise<Map<number, string>> {
  const r = await session.query(
    `select oid::int as oid, format_type(oid, null) as t from pg_catalog.pg_type where oid = any($1::oid[])`,
    [oids],
  );
  return new Map(r.rows.map((x) => [Number(x.oid), String(x.t)]));
}

export async function runUnitTest(
  compiler: ProjectCompiler,
  node: ModelNode,
  model: ModelNode,
  session: PgSession,
): Promise<TestOutcome> {
  const u: UnitTestProps = node.unitTests[0]!;
  const where = { model: node.name, file: `${node.packageName}/${node.file}` };
  const overrides = rec(u.overrides);
  const macroOverrides = rec(overrides.macros);
  const vars = { ...compiler.varsFor(model.packageName), ...rec(overrides.vars) };
  const env = {
    ...compiler.o.env,
    ...Object.fromEntries(Object.entries(rec(overrides.env_vars)).map(([k, v]) => [k, String(v)])),
  };
  const isIncremental = macroOverrides.is_incremental === true;
  const modelRelation = compiler.relationFor(model);

  // Resolve each `given` input to the relation it stands for, then to a CTE of fixture rows.
  const baseCtx = compiler.context(
    compiler.baseContext({
      mode: 'run',
      packageName: model.packageName,
      modelName: model.name,
      config: model.config,
      thisRelation: modelRelation,
      session,
      vars,
      env,
    }),
  );
  const ctes: { name: string; sql: string }[] = [];
  const byRelation = new Map<string, string>();
  let thisCte: string | null = null;
  for (const [idx, g] of u.given.map(rec).entries()) {
    const input = typeof g.input === 'string' ? g.input.trim() : '';
    let relation: Relation;
    if (input === 'this') relation = modelRelation;
    else {
      const text = input.includes('{{')
        ? await compiler.renderString(input, `${where.file}:given${idx}`, baseCtx, where)
        : input;
      const value = await evaluate(compiler, text, baseCtx, where);
      if (!(value instanceof Relation))
        throw new EngineError(
          'MODEL_COMPILE',
          `Unit test ${node.name}: given input ${input} is not a ref(), source() or this.`,
          { details: where },
        );
      relation = value;
    }
    const columns = await columnsOf(session, relation.render());
    if (!columns.length)
      throw new EngineError(
        'MODEL_RUN',
        `Unit test ${node.name} (${where.file}): its input ${input} (${relation.render()}) does not exist in the database yet, so its column types are unknown. Build it first (dbt build runs parents first).`,
        { details: where },
      );
    const name = `__dbt__cte__${relation.identifier}${input === 'this' ? '__this' : ''}`;
    ctes.push({ name, sql: fixtureSql(readFixture(compiler, node, g), columns) });
    if (input === 'this') thisCte = name;
    else byRelation.set(relation.render(), name);
  }
  const cteRelation = (r: Relation): Relation => {
    const hit = byRelation.get(r.render());
    return hit ? new Relation({ identifier: hit, type: 'cte' }) : r;
  };
  const ctx = compiler.context(
    compiler.baseContext({
      mode: 'run',
      packageName: model.packageName,
      modelName: model.name,
      config: model.config,
      thisRelation: thisCte ? new Relation({ identifier: thisCte, type: 'cte' }) : modelRelation,
      isIncremental,
      session,
      vars,
      env,
      resolveRef: (pkg, name) => cteRelation(compiler.relationForRef(model.packageName, pkg, name)),
      resolveSource: (s, t) => cteRelation(compiler.relationForSource(s, t)),
    }),
  );
  for (const [name, value] of Object.entries(macroOverrides)) {
    if (name === 'is_incremental') continue;
    Object.defineProperty(ctx, name, {
      value: callable(() => value),
      configurable: true,
      enumerable: true,
      writable: true,
    });
  }
  const body = await compiler.renderFile(model, ctx);
  const actualSql = `${ctes.length ? `with ${ctes.map((c) => `${quoteIdent(c.name)} as (\n${c.sql}\n)`).join(',\n')}\n` : ''}select * from (\n${body.replace(/;\s*$/, '')}\n) as __dbt_unit_model`;
  const wrappedActual = actualSql;

  let probe;
  try {
    probe = await session.query(`select * from (\n${wrappedActual}\n) as __dbt_probe limit 0`);
  } catch (error) {
    throw unitError(error, where, wrappedActual);
  }
  const types = await typeNames(
    session,
    probe.fields.map((f) => f.dataTypeID),
  );
  const actualCols = probe.fields.map((f) => ({ name: f.name, dataType: types.get(f.dataTypeID) ?? 'text' }));
  const expect = readFixture(compiler, node, rec(u.expect));
  const expectedKeys =
    expect.rows && expect.rows.length
      ? [...new Set(expect.rows.flatMap((r) => Object.keys(r).map((k) => k.toLowerCase())))]
      : actualCols.map((c) => c.name.toLowerCase());
  const cols = actualCols.filter((c) => expectedKeys.includes(c.name.toLowerCase()));
  const missing = expectedKeys.filter((k) => !actualCols.some((c) => c.name.toLowerCase() === k));
  if (missing.length) {
    return {
      status: 'fail',
      failures: 1,
      message: `The model's result has no column ${missing.join(', ')} that the expected rows name (it has ${actualCols.map((c) => c.name).join(', ')}).`,
      sql: wrappedActual,
      sample: [],
      storedIn: null,
    };
  }
  const list = cols.map((c) => quoteIdent(c.name)).join(', ');
  const expectedSql = fixtureSql(expect, cols);
  const diffSql = `with actual as (select ${list} from (\n${wrappedActual}\n) a), expected as (\n${expectedSql}\n)
select 'actual' as dbt_unit_side, * from (select ${list} from actual except all select ${list} from expected) x
union all
select 'expected' as dbt_unit_side, * from (select ${list} from expected except all select ${list} from actual) y`;
  let diff;
  try {
    diff = await session.query(diffSql);
  } catch (error) {
    throw unitError(error, where, diffSql);
  }
  if (!diff.rows.length)
    return { status: 'pass', failures: 0, message: null, sql: wrappedActual, sample: [], storedIn: null };
  const sample = diff.rows
    .slice(0, 20)
    .map((r) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null || typeof v !== 'object' ? v : pyStr(v)])),
    );
  const extra = diff.rows.filter((r) => r.dbt_unit_side === 'actual').length;
  const lacking = diff.rows.length - extra;
  return {
    status: 'fail',
    failures: diff.rows.length,
    message: `The model's result differs from the expected rows: ${lacking} expected row(s) missing, ${extra} unexpected row(s).`,
    sql: wrappedActual,
    sample,
    storedIn: null,
  };
}

function unitError(error: unknown, where: { model: string; file: string }, sql: string): EngineError {
  const e = queryError(error, { ...where, sql });
  return new EngineError('MODEL_RUN', e.message.replace(/^Model /, 'Unit test '), {
    cause: error,
    details: e.details ?? where,
  });
}
