import { useId } from 'react';
import type { ChartEmptyReason, ChartSeries } from '../../app/contract/dto';
import { formatNumber, type Lang } from '../format';
import { useT, type Translate } from '../i18n/use-t';

/** Okabe–Ito: distinguishable with the common colour-vision deficiencies. Series also differ by marker shape. */
const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#999999'];
const MAX_SERIES = 7;
const W = 1100;
const H = 300;
const PAD = { left: 56, right: 16, top: 12, bottom: 40 };

export function collapseSeries(series: ChartSeries[], otherLabel: string): ChartSeries[] {
  if (series.length <= MAX_SERIES + 1) return series;
  const total = (s: ChartSeries) => s.points.reduce((n, p) => n + p.y, 0);
  const sorted = [...series].sort((a, b) => total(b) - total(a));
  const rest = sorted.slice(MAX_SERIES);
  const sums = new Map<string, number>();
  for (const s of rest) for (const p of s.points) sums.set(p.x, (sums.get(p.x) ?? 0) + p.y);
  return [...sorted.slice(0, MAX_SERIES), { name: otherLabel, points: [...sums].map(([x, y]) => ({ x, y })) }];
}

/** A 1-2-5 step giving about four whole-number gridlines up to the largest value. */
function niceScale(v: number): { max: number; step: number } {
  if (v <= 0) return { max: 4, step: 1 };
  const raw = v / 4;
  const exp = 10 ** Math.floor(Math.log10(raw));
  const f = raw / exp;
  const step = Math.max(1, (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * exp);
  return { max: Math.ceil(v / step) * step, step };
}

function xLabel(lang: Lang, x: string): string {
  if (/^\d{4}-\d{2}-\d{2}/.test(x)) {
    const d = new Date(x);
    // Week starts show the day; run timestamps also show the time (several runs a day).
    const withTime = x.length > 10 ? ({ hour: '2-digit', minute: '2-digit' } as const) : {};
    if (!Number.isNaN(d.getTime()))
      return new Intl.DateTimeFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', {
        day: 'numeric',
        month: 'short',
        ...withTime,
      }).format(d);
  }
  return x;
}

function Marker({ shape, x, y, colour }: { shape: number; x: number; y: number; colour: string }) {
  switch (shape % 4) {
    case 0:
      return <circle cx={x} cy={y} r={3.5} fill={colour} />;
    case 1:
      return <rect x={x - 3.5} y={y - 3.5} width={7} height={7} fill={colour} />;
    case 2:
      return <path d={`M${x} ${y - 4.5}L${x + 4.5} ${y + 3.5}H${x - 4.5}Z`} fill={colour} />;
    default:
      return <path d={`M${x} ${y - 4.5}L${x + 4.5} ${y}L${x} ${y + 4.5}L${x - 4.5} ${y}Z`} fill={colour} />;
  }
}

/**
 * A small hand-written SVG chart (lines, or stacked bars for parts of a whole) with a legend and the same data as a
 * table for screen readers and for people who want the numbers.
 */
export function Chart({
  series,
  variant,
  yLabel,
  summary,
}: {
  series: ChartSeries[];
  variant: 'line' | 'stacked';
  yLabel: string;
  summary: string;
}) {
  const { t, lang } = useT();
  const titleId = useId();
  // Series the engine named (other, none, per-database speed, backlog) in the UI's language.
  const shown = collapseSeries(
    series.map((s) => ({ ...s, name: seriesLabel(s, t) })),
    t('charts.other'),
  );
  const xs = [...new Set(shown.flatMap((s) => s.points.map((p) => p.x)))].sort();
  const values = new Map(shown.map((s) => [s.name, new Map(s.points.map((p) => [p.x, p.y]))]));
  const largest =
    variant === 'stacked'
      ? Math.max(0, ...xs.map((x) => shown.reduce((n, s) => n + (values.get(s.name)?.get(x) ?? 0), 0)))
      : Math.max(0, ...shown.flatMap((s) => s.points.map((p) => p.y)));
  const { max: maxY, step: tickStep } = niceScale(largest);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const step = xs.length > 0 ? plotW / xs.length : plotW;
  const xAt = (i: number) => PAD.left + step * (i + 0.5);
  const yAt = (v: number) => PAD.top + plotH - (v / maxY) * plotH;
  const labelEvery = Math.max(1, Math.ceil(xs.length / 10));
  const ticks = Array.from({ length: Math.round(maxY / tickStep) + 1 }, (_, i) => i * tickStep);
  const barW = Math.max(2, step * 0.7);
  // Running totals per x for stacking, bottom series first.
  const stackBase = new Map<string, number>();

  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={titleId} className="chart-svg">
        <title id={titleId}>{summary}</title>
        {ticks.map((v) => (
          <g key={v}>
            <line x1={PAD.left} x2={W - PAD.right} y1={yAt(v)} y2={yAt(v)} className="grid" />
            <text x={PAD.left - 8} y={yAt(v) + 4} textAnchor="end" className="axis-text">
              {formatNumber(lang, v)}
            </text>
          </g>
        ))}
        <text
          x={14}
          y={PAD.top + plotH / 2}
          transform={`rotate(-90 14 ${PAD.top + plotH / 2})`}
          textAnchor="middle"
          className="axis-text"
        >
          {yLabel}
        </text>
        {xs.map((x, i) =>
          i % labelEvery === 0 ? (
            <text key={x} x={xAt(i)} y={H - PAD.bottom + 18} textAnchor="middle" className="axis-text">
              {xLabel(lang, x)}
            </text>
          ) : null,
        )}
        <line x1={PAD.left} x2={W - PAD.right} y1={yAt(0)} y2={yAt(0)} className="axis" />
        {shown.map((s, si) => {
          const colour = COLOURS[si % COLOURS.length] ?? '#000';
          const v = values.get(s.name);
          if (variant === 'stacked') {
            return (
              <g key={s.name}>
                {xs.map((x, i) => {
                  const y = v?.get(x) ?? 0;
                  const base = stackBase.get(x) ?? 0;
                  stackBase.set(x, base + y);
                  if (y <= 0) return null;
                  // A 1px white gap between segments keeps adjacent colours apart.
                  return (
                    <rect
                      key={x}
                      x={xAt(i) - barW / 2}
                      y={yAt(base + y)}
                      width={barW}
                      height={Math.max(0, yAt(base) - yAt(base + y) - 1)}
                      fill={colour}
                    />
                  );
                })}
              </g>
            );
          }
          const pts = xs.flatMap((x, i) => {
            const y = v?.get(x);
            return y === undefined ? [] : [{ x: xAt(i), y: yAt(y) }];
          });
          return (
            <g key={s.name}>
              <polyline
                points={pts.map((p) => `${p.x},${p.y}`).join(' ')}
                fill="none"
                stroke={colour}
                strokeWidth={2}
              />
              {pts.length <= 60 && pts.map((p, i) => <Marker key={i} shape={si} x={p.x} y={p.y} colour={colour} />)}
            </g>
          );
        })}
      </svg>
      {shown.length > 1 && (
        <ul className="legend" aria-hidden="true">
          {shown.map((s, si) => (
            <li key={s.name}>
              <svg width={14} height={14} viewBox="0 0 14 14">
                {variant === 'stacked' ? (
                  <rect x={2} y={2} width={10} height={10} fill={COLOURS[si % COLOURS.length]} />
                ) : (
                  <Marker shape={si} x={7} y={7} colour={COLOURS[si % COLOURS.length] ?? '#000'} />
                )}
              </svg>
              {s.name}
            </li>
          ))}
        </ul>
      )}
      <details className="chart-table">
        <summary>{t('charts.showTable')}</summary>
        <div className="scroll-x">
          <table className="table compact">
            <thead>
              <tr>
                <th scope="col">{t('charts.period')}</th>
                {shown.map((s) => (
                  <th scope="col" key={s.name} className="num">
                    {s.name}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {xs.map((x) => (
                <tr key={x}>
                  <th scope="row">{xLabel(lang, x)}</th>
                  {shown.map((s) => (
                    <td key={s.name} className="num">
                      {formatNumber(lang, values.get(s.name)?.get(x) ?? 0)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}

/** A series' legend: a value from the data as it is, a series the engine named in the UI's language. */
export function seriesLabel(s: ChartSeries, t: Translate): string {
  switch (s.role) {
    case 'other':
      return t('charts.other');
    case 'none':
      return t('charts.none');
    case 'throughput':
      return t('charts.throughput', { database: s.database ?? s.name });
    case 'backlog':
      return t('charts.backlog');
    default:
      return s.name;
  }
}

/**
 * Why a chart is empty, in the UI's language: the engine sends a code and its values (table and
 * column names stay as they are: they are names in the database).
 */
export function chartEmptyText(reason: ChartEmptyReason | undefined, t: Translate): string {
  switch (reason?.code) {
    case 'not-configured':
      return t('charts.reason.notConfigured');
    case 'no-table':
      return t('charts.reason.noTable', { table: reason.table, transform: t('dash.transformNow') });
    case 'no-column':
      return t('charts.reason.noColumn', { table: reason.table, column: reason.column });
    case 'no-rows':
      return reason.table === 'data_record'
        ? t('charts.reason.noReports')
        : reason.table === 'contact'
          ? t('charts.reason.noContacts')
          : t('charts.reason.noRows', { table: reason.table });
    case 'no-sync-runs':
      return t('charts.reason.noSyncRuns', { days: reason.days });
    default:
      // No reason, or one this version does not know yet.
      return t('charts.empty');
  }
}
