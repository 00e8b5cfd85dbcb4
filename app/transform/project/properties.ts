import type { ColumnConstraint, ColumnProps, ConfigMap, ModelProps, SourceProps, UnitTestProps } from './types';

/**
 * YAML property files (`version: 2` with `sources:`, `models:`, `unit_tests:` …). Unknown keys
 * are ignored as dbt ignores them — notably CHT Pipeline's `data-tests:` (hyphen), which dbt
 * stores as an unknown extra property, so those tests never exist there either.
 */
function rec(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function str(v: unknown): string | null {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null;
}

function constraint(v: unknown): ColumnConstraint | null {
  const c = rec(v);
  const type = str(c.type);
  if (!type) return null;
  const out: ColumnConstraint = { type };
  if (c.expression !== undefined && c.expression !== null) out.expression = String(c.expression);
  if (typeof c.name === 'string') out.name = c.name;
  if (Array.isArray(c.columns)) out.columns = c.columns.map(String);
  return out;
}

function column(v: unknown): ColumnProps | null {
  const c = rec(v);
  const name = str(c.name);
  if (!name) return null;
  return {
    name,
    dataType: str(c.data_type),
    description: str(c.description) ?? '',
    constraints: arr(c.constraints)
      .map(constraint)
      .filter((x): x is ColumnConstraint => x !== null),
    tests: [...arr(c.tests), ...arr(c.data_tests)],
    quote: c.quote === true,
  };
}

/** A source's or table's `freshness:` / `loaded_at_field:` (kept with its config). */
function freshnessOf(r: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (r.freshness !== undefined) out.freshness = r.freshness;
  if (typeof r.loaded_at_field === 'string') out.loaded_at_field = r.loaded_at_field;
  return out;
}

/** `models:`, `seeds:` and `snapshots:` entries share one shape. */
function nodeProps(list: unknown, file: string): ModelProps[] {
  const out: ModelProps[] = [];
  for (const m of arr(list)) {
    const r = rec(m);
    const name = str(r.name);
    if (!name) continue;
    const config: ConfigMap = { ...rec(r.config) };
    // Old-style top-level keys dbt still honours on properties.
    if (r.tags !== undefined && config.tags === undefined) config.tags = r.tags;
    out.push({
      name,
      file,
      description: str(r.description) ?? '',
      config,
      columns: arr(r.columns)
        .map(column)
        .filter((x): x is ColumnProps => x !== null),
      constraints: arr(r.constraints)
        .map(constraint)
        .filter((x): x is ColumnConstraint => x !== null),
      tests: [...arr(r.tests), ...arr(r.data_tests)],
    });
  }
  return out;
}

export interface PropertyFileContent {
  models: ModelProps[];
  seeds: ModelProps[];
  snapshots: ModelProps[];
  sources: SourceProps[];
  unitTests: UnitTestProps[];
}

export function parseProperties(doc: unknown, file: string): PropertyFileContent {
  const d = rec(doc);
  const [models, seeds, snapshots] = [d.models, d.seeds, d.snapshots].map((list) => nodeProps(list, file)) as [
    ModelProps[],
    ModelProps[],
    ModelProps[],
  ];
  const sources: SourceProps[] = [];
  for (const s of arr(d.sources)) {
    const r = rec(s);
    const name = str(r.name);
    if (!name) continue;
    sources.push({
      name,
      database: str(r.database),
      schema: str(r.schema),
      file,
      config: { ...freshnessOf(r), ...rec(r.config) },
      tables: arr(r.tables)
        .map(rec)
        .filter((t) => str(t.name))
        .map((t) => ({
          name: str(t.name)!,
          identifier: str(t.identifier),
          config: { ...freshnessOf(t), ...rec(t.config) },
          columns: arr(t.columns)
            .map(column)
            .filter((x): x is ColumnProps => x !== null),
          tests: [...arr(t.tests), ...arr(t.data_tests)],
        })),
    });
  }
  const unitTests: UnitTestProps[] = [];
  for (const u of arr(d.unit_tests)) {
    const r = rec(u);
    const name = str(r.name);
    const model = str(r.model);
    if (!name || !model) continue;
    unitTests.push({
      name,
      model,
      given: arr(r.given),
      expect: r.expect ?? null,
      overrides: r.overrides ?? null,
      file,
    });
  }
  return { models, seeds, snapshots, sources, unitTests };
}
