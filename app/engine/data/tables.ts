import type pg from 'pg';
import type { TableFilter, TableInfo, TablePreview } from '../../contract';
import { EngineError } from '../../core/engine-error';
import { CSV_BOM, csvLine } from './csv';
import { writeXlsx, XLSX_MAX_ROWS, type XlsxCell } from './xlsx';

/** The only date form a filter takes (the UI converts what the user typed in their format). */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** Tables with fewer (estimated) rows than this are counted exactly. */
const EXACT_COUNT_BELOW = 100_000;

interface Column {
  name: string;
  type: string;
}

/**
 * Values as the UI should see them: booleans and numbers as such, everything else
 * (timestamps with their microseconds, jsonb, arrays) as PostgreSQL's own text.
 */
const displayTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (format === 'binary') return (v: Buffer) => v.toString('utf8');
    if (oid === 16) return (v: string) => v === 't';
    if (oid === 21 || oid === 23 || oid === 700 || oid === 701) return (v: string) => Number(v);
    return (v: string) => v;
  },
} as unknown as pg.CustomTypesConfig;

export async function listTables(pool: pg.Pool, schema: string): Promise<TableInfo[]> {
  const { rows } = await pool.query<{ name: string; relkind: string; estimate: string; has_saved: boolean }>(
    `select c.relname as name, c.relkind, c.reltuples::bigint::text as estimate,
            exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'saved_timestamp' and not a.attisdropped) as has_saved
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $1 and c.relkind in ('r','p','v','m') and c.relname not like '%__dbt_%'
      order by c.relname`,
    [schema],
  );
  const out: TableInfo[] = [];
  for (const row of rows) {
    const kind: TableInfo['kind'] = row.relkind === 'v' ? 'view' : row.relkind === 'm' ? 'materialized view' : 'table';
    const relation = `${quoteIdent(schema)}.${quoteIdent(row.name)}`;
    const estimate = Number(row.estimate);
    let count = estimate;
    // reltuples is -1 before the first ANALYZE and meaningless for views: count those, with a time cap.
    if (estimate < EXACT_COUNT_BELOW || kind === 'view')
      count = (await cappedCount(pool, relation)) ?? Math.max(estimate, 0);
    let freshAsOf: string | null = null;
    if (row.has_saved) {
      const fresh = await cappedQuery<{ at: string | null }>(
        pool,
        `select max(saved_timestamp)::text as at from ${relation}`,
      );
      freshAsOf = fresh?.[0]?.at ? toIso(fresh[0].at) : null;
    }
    out.push({ schema, name: row.name, kind, rows: count, freshAsOf });
  }
  return out;
}

async function cappedCount(pool: pg.Pool, relation: string): Promise<number | null> {
  const rows = await cappedQuery<{ n: string }>(pool, `select count(*)::text as n from ${relation}`);
  return rows?.[0] ? Number(rows[0].n) : null;
}

/** A query that gives up after a few seconds instead of freezing the screen (null then). */
async function cappedQuery<T extends pg.QueryResultRow>(
  pool: pg.Pool,
  sql: string,
  params: unknown[] = [],
  ms = 5000,
): Promise<T[] | null> {
  const client = await pool.connect();
  try {
    await client.query('begin read only');
    await client.query(`set local statement_timeout = ${Math.floor(ms)}`);
    const result = await client.query<T>(sql, params);
    await client.query('commit');
    return result.rows;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    if ((error as { code?: string }).code === '57014') return null;
    throw error;
  } finally {
    client.release();
  }
}

/** Identifiers come from the user: they are checked against the catalogue, never spliced in unchecked. */
async function describe(pool: pg.Pool, schema: string, table: string): Promise<Column[]> {
  const { rows } = await pool.query<{ name: string; type: string }>(
    `select column_name as name, data_type as type from information_schema.columns
      where table_schema = $1 and table_name = $2 order by ordinal_position`,
    [schema, table],
  );
  if (rows.length === 0) {
    throw new EngineError(
      'NOT_FOUND',
      `There is no table "${table}" in schema "${schema}". Pick one from the Data list (run transforms to create the analytics tables).`,
    );
  }
  return rows;
}

function whereClause(columns: Column[], filter: TableFilter | undefined, params: unknown[]): string {
  if (!filter) return '';
  const column = columns.find((c) => c.name === filter.column);
  if (!column)
    throw new EngineError('INVALID_ARGUMENT', `There is no column "${filter.column}" to filter on.`, {
      details: { field: 'filter.column' },
    });
  const ident = quoteIdent(column.name);
  const isDate = /^(date|timestamp)/i.test(column.type);
  if (isDate && filter.op !== 'contains' && !ISO_DATE.test(filter.value.trim())) {
    // "01/07/2026" is 1 July to some and 7 January to PostgreSQL's default DateStyle: only ISO is taken.
    throw new EngineError(
      'INVALID_ARGUMENT',
      `Write dates for "${column.name}" as year-month-day, for example 2026-07-01 (got "${filter.value.slice(0, 40)}"): a date like 01/07/2026 reads differently in different countries.`,
      { details: { field: 'filter.value' } },
    );
  }
  params.push(filter.op === 'contains' ? `%${filter.value.replace(/[\\%_]/g, (m) => `\\${m}`)}%` : filter.value);
  const p = `$${params.length}`;
  switch (filter.op) {
    case 'eq':
      // A date is equal as a date (2026-07-01 matches whatever PostgreSQL's text form is); anything else as text.
      return isDate ? ` where ${ident} = ${p}` : ` where ${ident}::text = ${p}`;
    case 'contains':
      return ` where ${ident}::text ilike ${p}`;
    // Typed comparison: PostgreSQL casts the parameter to the column's type (dates compare as dates).
    case 'gt':
      return ` where ${ident} > ${p}`;
    case 'lt':
      return ` where ${ident} < ${p}`;
  }
}

function translateFilterError(error: unknown, filter: TableFilter | undefined): never {
  const code = (error as { code?: string }).code;
  if (filter && (code === '22P02' || code === '22007' || code === '22008' || code === '42883' || code === '22003')) {
    throw new EngineError(
      'INVALID_ARGUMENT',
      `"${filter.value.slice(0, 40)}" cannot be compared with column "${filter.column}": enter a value of the column's type (for dates: 2024-01-31).`,
      { details: { field: 'filter.value' } },
    );
  }
  if (code === '57014')
    throw new EngineError(
      'PG_QUERY',
      'The query took too long and was stopped. Narrow the filter, or use psql/Metabase for this table.',
      { retryable: true },
    );
  throw new EngineError('PG_QUERY', `The table could not be read: ${(error as Error).message}`, { cause: error });
}

export async function previewTable(
  pool: pg.Pool,
  schema: string,
  o: { table: string; offset: number; limit: number; filter?: TableFilter },
): Promise<TablePreview> {
  const columns = await describe(pool, schema, o.table);
  const params: unknown[] = [];
  const where = whereClause(columns, o.filter, params);
  const relation = `${quoteIdent(schema)}.${quoteIdent(o.table)}`;
  try {
    const page = await pool.query<unknown[]>({
      text: `select * from ${relation}${where} offset ${Math.floor(o.offset)} limit ${Math.floor(o.limit)}`,
      values: params,
      rowMode: 'array',
      types: displayTypes,
    });
    let total: number;
    if (where === '') {
      const estimate = await pool.query<{ n: string }>(
        `select reltuples::bigint::text as n from pg_class where oid = $1::regclass`,
        [relation],
      );
      const guess = Number(estimate.rows[0]?.n ?? -1);
      total = guess >= EXACT_COUNT_BELOW ? guess : ((await cappedCount(pool, relation)) ?? Math.max(guess, 0));
    } else {
      const counted = await cappedQuery<{ n: string }>(
        pool,
        `select count(*)::text as n from ${relation}${where}`,
        params,
      );
      total = counted?.[0] ? Number(counted[0].n) : o.offset + page.rows.length;
    }
    return {
      columns: columns.map((c) => ({ name: c.name, type: c.type })),
      rows: page.rows.map((row) => row.map(cell)),
      total,
      offset: o.offset,
    };
  } catch (error) {
    if (error instanceof EngineError) throw error;
    return translateFilterError(error, o.filter);
  }
}

function cell(value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') return value;
  return JSON.stringify(value);
}

export interface CsvExport {
  fileName: string;
  rows: number;
}

/**
 * Streams a table (or a filtered view of it) as CSV through a server-side cursor,
 * a page at a time, so memory stays flat whatever the table size; `write`
 * receives the chunks (BOM first, so Excel reads UTF-8).
 */
export async function exportTableCsv(
  pool: pg.Pool,
  schema: string,
  o: { table: string; filter?: TableFilter; maxRows?: number; maxBytes?: number },
  write: (chunk: string) => void | Promise<void>,
): Promise<CsvExport> {
  const columns = await describe(pool, schema, o.table);
  const params: unknown[] = [];
  const where = whereClause(columns, o.filter, params);
  const relation = `${quoteIdent(schema)}.${quoteIdent(o.table)}`;
  const client = await pool.connect();
  let rows = 0;
  let bytes = 0;
  try {
    await client.query('begin read only');
    await client.query({
      text: `declare cht_export no scroll cursor for select * from ${relation}${where}`,
      values: params,
    });
    await write(CSV_BOM + csvLine(columns.map((c) => c.name)));
    for (;;) {
      const page = await client.query<unknown[]>({
        text: 'fetch 2000 from cht_export',
        rowMode: 'array',
        types: displayTypes,
      });
      if (page.rows.length === 0) break;
      const text = page.rows.map(csvLine).join('');
      bytes += text.length;
      rows += page.rows.length;
      if (o.maxRows !== undefined && rows > o.maxRows) {
        throw new EngineError(
          'INVALID_ARGUMENT',
          `This export has more than ${o.maxRows.toLocaleString('en')} rows, too many for a spreadsheet. Add a filter, or export with psql \\copy.`,
          { details: { field: 'filter' } },
        );
      }
      if (o.maxBytes !== undefined && bytes > o.maxBytes) {
        throw new EngineError(
          'INVALID_ARGUMENT',
          `This export is larger than ${Math.round(o.maxBytes / 1024 / 1024)} MB, too much to hand over in one piece. Add a filter, or export with psql \\copy.`,
          { details: { field: 'filter' } },
        );
      }
      // Awaited per page: a slow reader (a download) holds the cursor back instead of filling memory.
      await write(text);
    }
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    if (error instanceof EngineError) throw error;
    translateFilterError(error, o.filter);
  } finally {
    client.release();
  }
  return { fileName: exportFileName(o.table, o.filter, 'csv'), rows };
}

/**
 * Values typed for a spreadsheet: numbers that fit a double exactly, booleans, dates and
 * timestamps as dates (timestamps without a zone are UTC in this layout), the rest as text.
 */
const spreadsheetTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (format === 'binary') return (v: Buffer) => v.toString('utf8');
    if (oid === 16) return (v: string) => v === 't';
    if (oid === 21 || oid === 23 || oid === 700 || oid === 701) return (v: string) => Number(v);
    // bigint and numeric: a number only when a double holds it exactly (an id of 19 digits stays text).
    if (oid === 20) return (v: string) => (Number.isSafeInteger(Number(v)) ? Number(v) : v);
    // numeric: a number when at most 15 significant digits (what a double holds exactly), else text.
    if (oid === 1700)
      return (v: string) =>
        /^-?\d+(\.\d+)?$/.test(v) && v.replace(/[-.]/g, '').replace(/^0+/, '').length <= 15 ? Number(v) : v;
    if (oid === 1082) return (v: string) => (/^\d{4}-\d{2}-\d{2}$/.test(v) ? new Date(`${v}T00:00:00Z`) : v);
    if (oid === 1114 || oid === 1184)
      return (v: string) => {
        const parsed = new Date(v.replace(' ', 'T') + (/[zZ]|[+-]\d\d(:?\d\d)?$/.test(v) ? '' : 'Z'));
        return Number.isNaN(parsed.getTime()) ? v : parsed;
      };
    return (v: string) => v;
  },
} as unknown as pg.CustomTypesConfig;

/** The table (or a filtered view) as an .xlsx workbook with typed cells (see ./xlsx.ts). */
export async function exportTableXlsx(
  pool: pg.Pool,
  schema: string,
  o: { table: string; filter?: TableFilter; maxRows?: number },
): Promise<{ fileName: string; rows: number; data: Buffer }> {
  const columns = await describe(pool, schema, o.table);
  const params: unknown[] = [];
  const where = whereClause(columns, o.filter, params);
  const relation = `${quoteIdent(schema)}.${quoteIdent(o.table)}`;
  const limit = Math.min(o.maxRows ?? XLSX_MAX_ROWS - 1, XLSX_MAX_ROWS - 1);
  let result: pg.QueryResult<unknown[]>;
  try {
    result = await pool.query<unknown[]>({
      text: `select * from ${relation}${where} limit ${limit + 1}`,
      values: params,
      rowMode: 'array',
      types: spreadsheetTypes,
    });
  } catch (error) {
    translateFilterError(error, o.filter);
  }
  if (result.rows.length > limit) {
    throw new EngineError(
      'INVALID_ARGUMENT',
      `This export has more than ${limit.toLocaleString('en')} rows, too many for a spreadsheet. Add a filter, or export with psql \\copy.`,
      { details: { field: 'filter' } },
    );
  }
  const cells = result.rows.map((row) => row.map(toCell));
  return {
    fileName: exportFileName(o.table, o.filter, 'xlsx'),
    rows: cells.length,
    data: writeXlsx(
      columns.map((c) => c.name),
      cells,
      o.table,
    ),
  };
}

function toCell(value: unknown): XlsxCell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value instanceof Date)
    return value;
  return JSON.stringify(value);
}

/**
 * `data_record-exported-2026-07-01.csv`, or `data_record-filtered-by-reported_date-exported-2026-07-01.csv`:
 * the export's own date is labelled, so it is never read as the filter's value.
 */
export function exportFileName(
  table: string,
  filter: TableFilter | undefined,
  extension: 'csv' | 'xlsx',
  now = new Date(),
): string {
  const filtered = filter ? `-filtered-by-${filter.column}` : '';
  return `${table}${filtered}-exported-${now.toISOString().slice(0, 10)}.${extension}`.replace(/[^A-Za-z0-9._-]/g, '_');
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function toIso(pgTimestamp: string): string {
  // timestamp without time zone is UTC in the cht-sync layout (saved_timestamp = now() at UTC).
  const parsed = new Date(pgTimestamp.replace(' ', 'T') + (/[zZ]|[+-]\d\d(:?\d\d)?$/.test(pgTimestamp) ? '' : 'Z'));
  return Number.isNaN(parsed.getTime()) ? pgTimestamp : parsed.toISOString();
}
