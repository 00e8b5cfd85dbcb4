import type pg from 'pg';
import type { ChartData, ChartEmptyReason, ChartName, ChartSeries } from '../../contract';
import { quoteIdent } from './tables';

const WEEKS = 26;
const MAX_SERIES = 8;
const THROUGHPUT_DAYS = 30;

export interface ThroughputPoint {
  at: string;
  database: string;
  docs: number;
  seconds: number;
}

/**
 * The dashboard's charts, from the analytics tables the pipeline builds
 * (data_record, contact) and from the run history. A missing table or an empty
 * result comes back as an empty chart with the reason (a code and its values, worded by the UI),
 * never as an error.
 */
export async function chartData(
  name: ChartName,
  o: { pool: pg.Pool | null; schema: string; throughput: (sinceIso: string) => ThroughputPoint[] },
): Promise<ChartData> {
  switch (name) {
    case 'reports-per-form-week':
      return weekly(o.pool, o.schema, {
        chart: name,
        title: `Reports per form per week (${WEEKS} weeks to the newest report)`,
        table: 'data_record',
        seriesColumn: 'form',
      });
    case 'contacts-per-week':
      return weekly(o.pool, o.schema, {
        chart: name,
        title: `New contacts per week by type (${WEEKS} weeks to the newest contact)`,
        table: 'contact',
        seriesColumn: 'contact_type',
      });
    case 'sync-throughput':
      return throughputChart(o.throughput);
  }
}

async function weekly(
  pool: pg.Pool | null,
  schema: string,
  c: { chart: ChartName; title: string; table: string; seriesColumn: string },
): Promise<ChartData> {
  const base = { chart: c.chart, title: c.title, series: [] as ChartSeries[] };
  const empty = (emptyReason: ChartEmptyReason): ChartData => ({ ...base, emptyReason });
  if (!pool) return empty({ code: 'not-configured' });
  const cols = await pool.query<{ column_name: string }>(
    'select column_name from information_schema.columns where table_schema = $1 and table_name = $2',
    [schema, c.table],
  );
  const names = new Set(cols.rows.map((r) => r.column_name));
  if (names.size === 0) return empty({ code: 'no-table', table: c.table });
  // `reported` is when the health worker recorded it; fall back to when it arrived.
  const timeColumn = names.has('reported') ? 'reported' : names.has('saved_timestamp') ? 'saved_timestamp' : null;
  if (!timeColumn || !names.has(c.seriesColumn))
    return empty({ code: 'no-column', table: c.table, column: timeColumn ? c.seriesColumn : 'reported' });
  // The window ends at the newest week with data (never in the future), not at today: a laptop
  // that synced weeks ago, or demo data, still shows its last half-year instead of an empty chart.
  const col = quoteIdent(timeColumn);
  const relation = `${quoteIdent(schema)}.${quoteIdent(c.table)}`;
  const newest = await pool.query<{ anchor: string | null }>(
    `select to_char(date_trunc('week', max(${col})), 'YYYY-MM-DD') as anchor
       from ${relation} where ${col} <= now() + interval '1 day'`,
  );
  const anchor = newest.rows[0]?.anchor ?? null;
  if (!anchor) return empty({ code: 'no-rows', table: c.table });
  const { rows } = await pool.query<{ week: string; name: string | null; n: string }>(
    `select to_char(date_trunc('week', ${col}), 'YYYY-MM-DD') as week,
            ${quoteIdent(c.seriesColumn)}::text as name, count(*)::text as n
       from ${relation}
      where ${col} >= $1::date - interval '${WEEKS - 1} weeks'
        and ${col} < $1::date + interval '1 week'
      group by 1, 2 order by 1`,
    [anchor],
  );
  if (rows.length === 0) return empty({ code: 'no-rows', table: c.table });
  const weeks = weekStarts(new Date(`${anchor}T00:00:00Z`));
  const totals = new Map<string, number>();
  for (const r of rows) totals.set(r.name ?? '(none)', (totals.get(r.name ?? '(none)') ?? 0) + Number(r.n));
  const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([n]) => n);
  const kept = new Set(ranked.slice(0, MAX_SERIES));
  const bySeries = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const label = kept.has(r.name ?? '(none)') ? (r.name ?? '(none)') : 'other';
    const perWeek = bySeries.get(label) ?? new Map<string, number>();
    perWeek.set(r.week, (perWeek.get(r.week) ?? 0) + Number(r.n));
    bySeries.set(label, perWeek);
  }
  const order = [...ranked.filter((n) => kept.has(n)), ...(bySeries.has('other') ? ['other'] : [])];
  return {
    ...base,
    series: order.map((label) => ({
      name: label,
      points: weeks.map((w) => ({ x: w, y: bySeries.get(label)?.get(w) ?? 0 })),
      ...(label === 'other' && !kept.has('other')
        ? { role: 'other' as const }
        : label === '(none)'
          ? { role: 'none' as const }
          : {}),
    })),
  };
}

/** Monday-start weeks (PostgreSQL's date_trunc('week')) ending with the one holding `end`, oldest first, in UTC. */
function weekStarts(end: Date): string[] {
  const day = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth(), end.getUTCDate()));
  const sinceMonday = (day.getUTCDay() + 6) % 7;
  day.setUTCDate(day.getUTCDate() - sinceMonday);
  const out: string[] = [];
  for (let i = WEEKS - 1; i >= 0; i--) {
    const d = new Date(day);
    d.setUTCDate(d.getUTCDate() - 7 * i);
    out.push(d.toISOString().slice(0, 10));
  }
  return out;
}

function throughputChart(throughput: (sinceIso: string) => ThroughputPoint[]): ChartData {
  const since = new Date(Date.now() - THROUGHPUT_DAYS * 24 * 3600 * 1000).toISOString();
  const points = throughput(since).filter((p) => p.docs > 0);
  const base: ChartData = {
    chart: 'sync-throughput',
    title: `Sync speed per run, documents per second (last ${THROUGHPUT_DAYS} days)`,
    series: [],
  };
  if (points.length === 0) return { ...base, emptyReason: { code: 'no-sync-runs', days: THROUGHPUT_DAYS } };
  const byDb = new Map<string, { x: string; y: number }[]>();
  for (const p of points) {
    const list = byDb.get(p.database) ?? [];
    list.push({ x: p.at, y: Math.round((p.docs / Math.max(p.seconds, 0.001)) * 10) / 10 });
    byDb.set(p.database, list);
  }
  const series: ChartSeries[] = [...byDb.entries()].map(([name, pts]) => ({
    name: `${name} (docs/s)`,
    points: pts,
    role: 'throughput',
    database: name,
  }));
  // The backlog each run cleared: what had piled up on the server since the run before.
  const perRun = new Map<string, number>();
  for (const p of points) perRun.set(p.at, (perRun.get(p.at) ?? 0) + p.docs);
  series.push({
    name: 'backlog cleared per run (documents)',
    role: 'backlog',
    points: [...perRun.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([x, y]) => ({ x, y })),
  });
  return { ...base, series };
}
