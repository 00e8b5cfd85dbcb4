import { callable, mkFloat, pyRepr, tuple } from '../jinja/values';
import type { QueryOutcome } from '../materialize/pg-session';
import { fromPgText } from './py-datetime';

/** timestamp, timestamptz, date: Python datetime/date values, as psycopg2 gives dbt. */
const DATETIME_OIDS = new Set([1114, 1184, 1082]);

/**
 * The agate-like result dbt hands to templates from `statement` / `run_query`, shaped like
 * agate's: a table iterates and indexes its rows (`for row in res`, `res[0][0]`, `res | length`),
 * `res.columns` is a mapped sequence of columns (by name or position; iterating gives the
 * columns: `res.columns[0].values()`, `res.columns | map(attribute='name')`), a row is a mapped
 * sequence of values (`row[0]`, `row['b']`, `row.b`, `row.dict()`, `row.keys()`, `row | list`),
 * `res.column_names` is a tuple; `print_table()` is accepted and prints nothing.
 */
class MappedSequence<V> {
  protected readonly _names: string[];
  protected readonly _vals: V[];
  private index: Map<string, number> | null = null;
  constructor(names: string[], vals: V[]) {
    this._names = names;
    this._vals = vals;
  }
  __getitem__(k: unknown): V | undefined {
    if (typeof k === 'number') return this._vals[k < 0 ? this._vals.length + k : k];
    if (typeof k !== 'string') return undefined;
    this.index ??= new Map(this._names.map((n, i) => [n, i]));
    const i = this.index.get(k);
    return i === undefined ? undefined : this._vals[i];
  }
  [Symbol.iterator](): Iterator<V> {
    return this._vals[Symbol.iterator]();
  }
  get length(): number {
    return this._vals.length;
  }
  readonly keys = callable(() => tuple([...this._names]));
  readonly values = callable(() => tuple([...this._vals]));
  readonly items = callable(() => this._names.map((n, i) => tuple([n, this._vals[i]])));
  readonly get = callable(([k, dflt]) => this.__getitem__(k) ?? dflt ?? null);
  readonly dict = callable(() => new Map(this._names.map((n, i) => [n, this._vals[i]])));
}

export class AgateRow extends MappedSequence<unknown> {
  override toString(): string {
    return `<agate.Row: (${this._vals.map((v) => pyRepr(v)).join(', ')})>`;
  }
}

export class AgateColumn {
  readonly name: string;
  private readonly cells: unknown[];
  readonly data_type: { toString(): string };
  readonly values = callable(() => tuple([...this.cells]));
  readonly values_distinct = callable(() => tuple([...new Set(this.cells)]));
  readonly values_without_nulls = callable(() => tuple(this.cells.filter((v) => v !== null)));
  readonly values_sorted = callable(() => tuple([...this.cells].sort()));
  constructor(name: string, cells: unknown[], typeName: string) {
    this.name = name;
    this.cells = cells;
    this.data_type = { toString: () => `<agate.${typeName}>` };
  }
  toString(): string {
    return `<agate.Column name=${this.name}>`;
  }
}

class AgateColumns extends MappedSequence<AgateColumn> {
  /** `'c' in table.columns` tests names, as agate's mapped sequence does. */
  has(k: unknown): boolean {
    return this.__getitem__(k) !== undefined;
  }
}

function typeOf(cells: unknown[]): string {
  const v = cells.find((x) => x !== null && x !== undefined);
  return typeof v === 'number' ? 'Number' : typeof v === 'boolean' ? 'Boolean' : 'Text';
}

export class AgateTable {
  readonly column_names: string[];
  readonly rows: AgateRow[];
  readonly columns: AgateColumns;
  readonly column_types: unknown[];
  readonly print_table = callable(() => null);
  readonly print_csv = callable(() => null);
  readonly print_json = callable(() => null);

  constructor(names: string[], rows: unknown[][]) {
    this.column_names = tuple([...names]) as string[];
    this.rows = rows.map((r) => new AgateRow(names, [...r]));
    const cols = names.map((n, idx) => {
      const cells = rows.map((r) => r[idx]);
      return new AgateColumn(n, cells, typeOf(cells));
    });
    this.columns = new AgateColumns(names, cols);
    this.column_types = tuple(cols.map((c) => c.data_type));
  }

  static fromOutcome(r: QueryOutcome): AgateTable {
    const names = r.fields.map((f) => f.name);
    // real / double precision are Python floats (696.0 prints as 696.0, as under dbt).
    const floats = new Set(r.fields.filter((f) => f.dataTypeID === 700 || f.dataTypeID === 701).map((f) => f.name));
    const dates = new Map(r.fields.filter((f) => DATETIME_OIDS.has(f.dataTypeID)).map((f) => [f.name, f.dataTypeID]));
    const cell = (n: string, v: unknown): unknown => {
      if (v === null || v === undefined) return null;
      if (floats.has(n) && typeof v === 'number') return mkFloat(v);
      const oid = dates.get(n);
      if (oid !== undefined && typeof v === 'string') return fromPgText(v, oid) ?? v;
      return v;
    };
    return new AgateTable(
      names,
      r.rows.map((row) => names.map((n) => cell(n, row[n]))),
    );
  }

  static empty(): AgateTable {
    return new AgateTable([], []);
  }

  __getitem__(k: unknown): unknown {
    return typeof k === 'number' ? this.rows[k < 0 ? this.rows.length + k : k] : undefined;
  }
  [Symbol.iterator](): Iterator<AgateRow> {
    return this.rows[Symbol.iterator]();
  }
  get length(): number {
    return this.rows.length;
  }
  toString(): string {
    return '<agate.table.Table object>';
  }
}

export interface StatementResult {
  response: { _message: string; code: string; rows_affected: number };
  table: AgateTable;
  data: unknown[][];
}

export function statementResult(r: QueryOutcome): StatementResult {
  const table = AgateTable.fromOutcome(r);
  return {
    response: { _message: `${r.command} ${r.rowCount ?? ''}`.trim(), code: r.command, rows_affected: r.rowCount ?? 0 },
    table,
    data: table.rows.map((x) => tuple([...x])),
  };
}
