import { callable } from '../jinja/values';
import type { QueryOutcome } from '../materialize/pg-session';

/**
 * The agate-like result dbt hands to templates from `statement` / `run_query`:
 * `.table.columns['c'].values()`, `.table.rows` (rows index by position), `.column_names`,
 * and `.data` on the load_result wrapper (a list of row tuples).
 */
export class AgateColumn {
  readonly name: string;
  private readonly items: unknown[];
  readonly values = callable(() => [...this.items]);
  readonly values_distinct = callable(() => [...new Set(this.items)]);
  readonly values_without_nulls = callable(() => this.items.filter((v) => v !== null));
  constructor(name: string, items: unknown[]) {
    this.name = name;
    this.items = items;
  }
}

export class AgateTable {
  readonly column_names: string[];
  readonly rows: unknown[][];
  readonly columns: Map<unknown, AgateColumn>;
  readonly print_table = callable(() => null);

  constructor(names: string[], rows: unknown[][]) {
    this.column_names = names;
    this.rows = rows.map((r) => {
      const row = [...r];
      // Rows also answer by column name (row.name / row['name'] on agate rows).
      names.forEach((n, idx) => Object.defineProperty(row, n, { value: r[idx], enumerable: false }));
      return row;
    });
    this.columns = new Map(names.map((n, idx) => [n, new AgateColumn(n, rows.map((r) => r[idx]))]));
  }

  static fromOutcome(r: QueryOutcome): AgateTable {
    const names = r.fields.map((f) => f.name);
    return new AgateTable(names, r.rows.map((row) => names.map((n) => row[n] ?? null)));
  }

  static empty(): AgateTable {
    return new AgateTable([], []);
  }

  get length(): number {
    return this.rows.length;
  }
}

export interface StatementResult {
  response: { _message: string; code: string; rows_affected: number };
  table: AgateTable;
  data: unknown[][];
}

export function statementResult(r: QueryOutcome): StatementResult {
  const table = AgateTable.fromOutcome(r);
  return { response: { _message: `${r.command} ${r.rowCount ?? ''}`.trim(), code: r.command, rows_affected: r.rowCount ?? 0 }, table, data: table.rows.map((x) => [...x]) };
}
