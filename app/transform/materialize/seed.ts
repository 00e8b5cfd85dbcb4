import { EngineError } from '../../core/engine-error';
import { quoteIdent, type Relation } from '../context/relation';
import { parseCsv } from '../project/csv';
import type { ConfigMap } from '../project/types';
import { exec, inTransaction, runHooks } from './steps';
import type { MaterializeInput, MaterializeOutput } from './types';

/**
 * dbt seeds on PostgreSQL: the CSV's column types are inferred as dbt's agate TypeTester does
 * (Number → integer/float8, Date `%Y-%m-%d`, DateTime `%Y-%m-%d %H:%M:%S`, ISO-8601 with `T`,
 * Boolean true/false, else text; `null` and empty are NULL), `column_types` overrides them,
 * columns are quoted unless `quote_columns: false`. An existing table is truncated and
 * reloaded; with --full-refresh it is dropped (cascade) and re-created, as dbt does.
 */
export type SeedType = 'number' | 'date' | 'datetime' | 'isodatetime' | 'boolean' | 'text';

const NULLS = new Set(['null', '']);
const CURRENCY = /[$£€¥₹¢₩₪₫₭₮₱₲₴₵₸₺₼₽₾]/g;

function isNull(v: string): boolean {
  return NULLS.has(v.trim().toLowerCase());
}

/** agate Number.cast: strip, `%`, currency symbols and `,` grouping, then a Decimal literal. */
export function castNumber(v: string): { value: string; decimals: number } | null {
  let d = v
    .trim()
    .replace(/^%+|%+$/g, '')
    .replace(CURRENCY, '')
    .replace(/,/g, '')
    .trim();
  if (d.startsWith('(') && d.endsWith(')')) d = `-${d.slice(1, -1)}`;
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(d);
  if (!m || (m[2] === '' && (m[3] === undefined || m[3] === ''))) return null;
  const frac = m[3] ?? '';
  const exp = m[4] ? Number(m[4]) : 0;
  return { value: d, decimals: Math.max(0, frac.length - exp) };
}

function validDate(y: number, mo: number, d: number): boolean {
  const dt = new Date(Date.UTC(y, mo - 1, d));
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === mo - 1 && dt.getUTCDate() === d;
}

function isDate(v: string): boolean {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(v.trim());
  return Boolean(m && validDate(Number(m[1]), Number(m[2]), Number(m[3])));
}

function isDateTime(v: string): boolean {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})$/.exec(v.trim());
  return Boolean(
    m &&
    validDate(Number(m[1]), Number(m[2]), Number(m[3])) &&
    Number(m[4]) < 24 &&
    Number(m[5]) < 60 &&
    Number(m[6]) < 62,
  );
}

function isIsoDateTime(v: string): boolean {
  const m =
    /^(\d{4})-?(\d{2})-?(\d{2})T(\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,]\d+)?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(
      v.trim(),
    );
  return Boolean(m && validDate(Number(m[1]), Number(m[2]), Number(m[3])) && Number(m[4]) < 24);
}

function isBoolean(v: string): boolean {
  const d = v.replace(/,/g, '').trim().toLowerCase();
  return d === 'true' || d === 'false';
}

const TESTERS: [SeedType, (v: string) => boolean][] = [
  ['number', (v) => castNumber(v) !== null],
  ['date', isDate],
  ['datetime', isDateTime],
  ['isodatetime', isIsoDateTime],
  ['boolean', isBoolean],
  ['text', () => true],
];

/** The first type (in agate's order) every non-null value of the column parses as. */
export function inferSeedType(values: string[]): { type: SeedType; sqlType: string } {
  const present = values.filter((v) => !isNull(v));
  for (const [type, test] of TESTERS) {
    if (!present.every(test)) continue;
    if (type === 'number') {
      const decimals = Math.max(0, ...present.map((v) => castNumber(v)!.decimals));
      return { type, sqlType: decimals ? 'float8' : 'integer' };
    }
    const sql =
      type === 'date'
        ? 'date'
        : type === 'datetime' || type === 'isodatetime'
          ? 'timestamp without time zone'
          : type === 'boolean'
            ? 'boolean'
            : 'text';
    return { type, sqlType: sql };
  }
  return { type: 'text', sqlType: 'text' };
}

/** The value as dbt would bind it after agate's cast. */
function bindValue(type: SeedType, v: string): string | null {
  if (type === 'text') return isNull(v) ? null : v;
  if (isNull(v)) return null;
  if (type === 'number') return castNumber(v)!.value;
  if (type === 'boolean') return v.replace(/,/g, '').trim().toLowerCase();
  return v.trim();
}

export interface SeedTable {
  columns: { name: string; type: SeedType; sqlType: string }[];
  rows: (string | null)[][];
}

export function readSeed(csv: string, config: ConfigMap, where: { model: string; file: string }): SeedTable {
  const delimiter = typeof config.delimiter === 'string' && config.delimiter ? config.delimiter : ',';
  const raw = parseCsv(csv, delimiter);
  const header = raw[0];
  if (!header?.length)
    throw new EngineError('MODEL_RUN', `Seed ${where.model} (${where.file}) is empty: a seed needs a header row.`, {
      details: where,
    });
  const body = raw.slice(1);
  const overrides = (
    config.column_types && typeof config.column_types === 'object' ? config.column_types : {}
  ) as Record<string, unknown>;
  const columns = header.map((name, i) => {
    const values = body.map((r) => r[i] ?? '');
    const inferred = inferSeedType(values);
    const forced = overrides[name];
    // A column given a type is read as text (dbt forces agate Text for it) and cast by PostgreSQL.
    return typeof forced === 'string' ? { name, type: 'text' as SeedType, sqlType: forced } : { name, ...inferred };
  });
  for (const [i, r] of body.entries()) {
    if (r.length !== header.length) {
      throw new EngineError(
        'MODEL_RUN',
        `Seed ${where.model} (${where.file}) row ${i + 2} has ${r.length} values but the header has ${header.length} columns.`,
        { details: { ...where, line: i + 2 } },
      );
    }
  }
  const rows = body.map((r) => columns.map((c, i) => bindValue(c.type, r[i] ?? '')));
  return { columns, rows };
}

/** Loads the seed; returns the number of rows inserted. */
export async function materializeSeed(i: MaterializeInput, out: MaterializeOutput, csv: string): Promise<number> {
  const table = readSeed(csv, i.config, { model: i.model, file: i.file });
  const quote = i.config.quote_columns !== false;
  const col = (n: string): string => (quote ? quoteIdent(n) : n);
  const target: Relation = i.target;
  const create = `create table ${target.render()} (${table.columns.map((c) => `${col(c.name)} ${c.sqlType}`).join(', ')})`;
  const n = await inTransaction(i, out, async () => {
    if (i.existing && (i.fullRefresh || i.existing.type !== 'table')) {
      await exec(
        i,
        out,
        `drop ${i.existing.type === 'view' ? 'view' : 'table'} if exists ${i.existing.render()} cascade`,
      );
      await exec(i, out, create);
    } else if (i.existing) {
      await exec(i, out, `truncate table ${target.render()}`);
    } else await exec(i, out, create);
    // Batches stay under PostgreSQL's 65535 bind parameters.
    const per = Math.max(1, Math.floor(60000 / Math.max(1, table.columns.length)));
    const cols = table.columns.map((c) => col(c.name)).join(', ');
    for (let start = 0; start < table.rows.length; start += per) {
      const batch = table.rows.slice(start, start + per);
      const params: (string | null)[] = [];
      const tuples = batch.map(
        (r) =>
          `(${r
            .map((v) => {
              params.push(v);
              return `$${params.length}`;
            })
            .join(',')})`,
      );
      const sql = `insert into ${target.render()} (${cols}) values ${tuples.join(',')}`;
      out.statements.push(sql);
      try {
        await i.session.query(sql, params);
      } catch (error) {
        const e = error as { message?: string };
        throw new EngineError(
          'MODEL_RUN',
          `Seed ${i.model} (${i.file}) could not be loaded: ${e.message ?? String(error)} (column types: ${table.columns.map((c) => `${c.name} ${c.sqlType}`).join(', ')}).`,
          { cause: error, details: { model: i.model, file: i.file } },
        );
      }
    }
    return table.rows.length;
  });
  await runHooks(i, out, i.postHooks, false);
  return n;
}
