/**
 * A small Prometheus registry: counters, gauges and histograms with labels, written in the
 * text exposition format (version 0.0.4) that Prometheus, cht-watchdog and Grafana Agent scrape.
 * Names follow Prometheus's conventions (snake_case, a unit suffix, `_total` on counters); the
 * registry checks them so a typo cannot ship a metric nobody can find.
 */

export type Labels = Record<string, string>;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Seconds, from 5 ms to 30 min: a model build or a batch. */
export const DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800,
];

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  labelNames: readonly string[];
  lines(): string[];
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabelValue(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function labelText(names: readonly string[], labels: Labels, extra?: [string, string]): string {
  const parts = names.map((n) => `${n}="${escapeLabelValue(labels[n] ?? '')}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

abstract class Metric<L extends string> implements Family {
  protected readonly series = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
    readonly labelNames: readonly L[],
  ) {}

  protected key(labels: Partial<Record<L, string>>): { key: string; labels: Labels } {
    const out: Labels = {};
    for (const n of this.labelNames) {
      const v = labels[n];
      if (v === undefined) throw new Error(`metric ${this.name}: label ${n} is missing`);
      out[n] = v;
    }
    for (const n of Object.keys(labels))
      if (!(this.labelNames as readonly string[]).includes(n))
        throw new Error(`metric ${this.name}: unknown label ${n}`);
    return { key: this.labelNames.map((n) => out[n]).join('\u0000'), labels: out };
  }

  lines(): string[] {
    return [...this.series.values()].map(
      (s) => `${this.name}${labelText(this.labelNames, s.labels)} ${formatValue(s.value)}`,
    );
  }
}

export class Counter<L extends string = never> extends Metric<L> {
  inc(labels: Record<L, string>, by = 1): void {
    if (!(by >= 0)) throw new Error(`metric ${this.name}: a counter only goes up (got ${by})`);
    const { key, labels: l } = this.key(labels);
    const s = this.series.get(key);
    if (s) s.value += by;
    else this.series.set(key, { labels: l, value: by });
  }

  /** Makes a series visible at 0 before its first event (rate() needs the starting point). */
  touch(labels: Record<L, string>): void {
    this.inc(labels, 0);
  }

  get(labels: Record<L, string>): number {
    return this.series.get(this.key(labels).key)?.value ?? 0;
  }
}

export class Gauge<L extends string = never> extends Metric<L> {
  set(labels: Record<L, string>, value: number): void {
    const { key, labels: l } = this.key(labels);
    this.series.set(key, { labels: l, value });
  }

  remove(labels: Record<L, string>): void {
    this.series.delete(this.key(labels).key);
  }

  get(labels: Record<L, string>): number | undefined {
    return this.series.get(this.key(labels).key)?.value;
  }
}

export class Histogram<L extends string = never> implements Family {
  readonly type = 'histogram' as const;
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[],
    readonly buckets: readonly number[],
  ) {
    if (buckets.some((b, i) => i > 0 && b <= buckets[i - 1]!)) throw new Error(`metric ${name}: buckets must increase`);
  }

  observe(labels: Record<L, string>, value: number): void {
    const out: Labels = {};
    for (const n of this.labelNames) out[n] = labels[n];
    const key = this.labelNames.map((n) => out[n]).join('\u0000');
    let s = this.series.get(key);
    if (!s) {
      s = { labels: out, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  lines(): string[] {
    const out: string[] = [];
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) =>
        out.push(`${this.name}_bucket${labelText(this.labelNames, s.labels, ['le', formatValue(b)])} ${s.counts[i]}`),
      );
      out.push(`${this.name}_bucket${labelText(this.labelNames, s.labels, ['le', '+Inf'])} ${s.count}`);
      out.push(`${this.name}_sum${labelText(this.labelNames, s.labels)} ${formatValue(s.sum)}`);
      out.push(`${this.name}_count${labelText(this.labelNames, s.labels)} ${s.count}`);
    }
    return out;
  }
}

export class MetricsRegistry {
  private readonly families = new Map<string, Family>();
  /** Called before every exposition: gauges read at scrape time (memory, uptime). */
  private readonly collectors: (() => void)[] = [];

  counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    if (!name.endsWith('_total')) throw new Error(`counter ${name}: counter names end in _total`);
    return this.add(new Counter<L>(name, help, 'counter', labelNames));
  }

  gauge<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return this.add(new Gauge<L>(name, help, 'gauge', labelNames));
  }

  histogram<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    buckets: readonly number[] = DURATION_BUCKETS,
  ): Histogram<L> {
    if (labelNames.includes('le' as L)) throw new Error(`histogram ${name}: "le" is reserved`);
    return this.add(new Histogram<L>(name, help, labelNames, buckets));
  }

  onCollect(collect: () => void): void {
    this.collectors.push(collect);
  }

  private add<F extends Family>(family: F): F {
    if (!NAME.test(family.name)) throw new Error(`metric name ${family.name} is not a valid Prometheus name`);
    for (const l of family.labelNames)
      if (!LABEL.test(l) || l.startsWith('__'))
        throw new Error(`metric ${family.name}: label ${l} is not a valid Prometheus label`);
    if (this.families.has(family.name)) throw new Error(`metric ${family.name} is registered twice`);
    this.families.set(family.name, family);
    return family;
  }

  /** The text exposition format, one family after the other (families without samples still show HELP/TYPE). */
  expose(): string {
    for (const collect of this.collectors) collect();
    const out: string[] = [];
    for (const f of this.families.values()) {
      out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`);
      out.push(`# TYPE ${f.name} ${f.type}`);
      out.push(...f.lines());
    }
    return `${out.join('\n')}\n`;
  }
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
