import type pg from 'pg';
import type { ConnectionInfo, ParsedArgs } from '../../contract';
import { chartData } from '../data/charts';
import { exportTableCsv, exportTableXlsx, listTables, previewTable } from '../data/tables';
import { translatePgError } from '../../postgres/pg-errors';
import { databaseName } from '../services/postgres-service';
import type { HandlerTable } from '../types';
import type { EngineParts } from './parts';

/** Plain-language cap for the CSV export: beyond this a spreadsheet is the wrong tool. */
const MAX_EXPORT_ROWS = 1_000_000;
/** The .xlsx export is built in memory: a quarter of a million rows is what a workbook is for. */
const MAX_XLSX_ROWS = 250_000;
/** The in-memory export (one JSON value over IPC/HTTP) stops here; the streaming download does not. */
const MAX_INLINE_EXPORT_BYTES = 64 * 1024 * 1024;

type DataMethods =
  'data.tables' | 'data.preview' | 'data.exportCsv' | 'data.exportXlsx' | 'data.connection' | 'data.chart';

/** The analytics tables: list, preview, CSV export, charts, and how to connect to them. */
export function dataHandlers(parts: EngineParts): Pick<HandlerTable, DataMethods> {
  const { ctx, settings, postgres } = parts;
  const schema = (): string => settings.current.schema;
  return {
    'data.tables': async () => postgres.withPool('listing the tables', (pool) => listTables(pool, schema())),
    'data.preview': async (args) =>
      postgres.withPool(`reading ${args.table}`, (pool) => previewTable(pool, schema(), args)),
    'data.exportCsv': async (args) =>
      postgres.withPool(`exporting ${args.table}`, async (pool) => {
        const chunks: string[] = [];
        const result = await exportTableCsv(
          pool,
          schema(),
          { ...args, maxRows: MAX_EXPORT_ROWS, maxBytes: MAX_INLINE_EXPORT_BYTES },
          (chunk) => void chunks.push(chunk),
        );
        return { fileName: result.fileName, csv: chunks.join(''), rows: result.rows };
      }),
    'data.exportXlsx': async (args) =>
      postgres.withPool(`exporting ${args.table}`, async (pool) => {
        const result = await exportTableXlsx(pool, schema(), { ...args, maxRows: MAX_XLSX_ROWS });
        return { fileName: result.fileName, base64: result.data.toString('base64'), rows: result.rows };
      }),
    'data.connection': async () => connectionInfo(parts),
    'data.chart': async ({ chart }) => {
      let pool: pg.Pool | null = null;
      if (chart !== 'sync-throughput') pool = await postgres.pool().catch(() => null);
      return postgres.withPool(`drawing the ${chart} chart`, () =>
        chartData(chart, { pool, schema: schema(), throughput: (since) => ctx.store.runs.throughput(since) }),
      );
    },
  };
}

/** Streams a table (or filtered view) as CSV, for transports that can stream (the HTTP download). */
export function exportCsv(
  { settings, postgres }: EngineParts,
  args: ParsedArgs<'data.exportCsv'>,
  write: (chunk: string) => void | Promise<void>,
): Promise<{ fileName: string; rows: number }> {
  return postgres.withPool(`exporting ${args.table}`, (pool) =>
    exportTableCsv(pool, settings.current.schema, { ...args, maxRows: MAX_EXPORT_ROWS }, write),
  );
}

async function connectionInfo({ settings, postgres }: EngineParts): Promise<ConnectionInfo> {
  const state = await postgres.get().catch((error: unknown) => {
    throw translatePgError(error, 'reading the connection details');
  });
  const url = new URL(state.url);
  url.password = '';
  return {
    host: url.hostname,
    port: Number(url.port || 5432),
    database: databaseName(state.url),
    username: decodeURIComponent(url.username),
    url: url.toString(),
    passwordHint: state.embedded
      ? `Kept in ${state.embedded.passwordFile} (the "password" value), readable only by your user. The embedded server listens on this computer only (127.0.0.1).`
      : 'The password configured for this server (in Settings, or --postgres-url / POSTGRES_PASSWORD); it is never shown here.',
    schema: settings.current.schema,
  };
}
