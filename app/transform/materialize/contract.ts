import { EngineError } from '../../core/engine-error';
import { quoteIdent, type Relation } from '../context/relation';
import type { ColumnConstraint, ColumnProps } from '../project/types';
import type { PgSession } from './pg-session';

/** dbt's Column.TYPE_LABELS: the portable names a contract may use. */
const TYPE_LABELS: Record<string, string> = {
  STRING: 'TEXT',
  TIMESTAMP: 'TIMESTAMP',
  FLOAT: 'FLOAT',
  INTEGER: 'INT',
  BOOLEAN: 'BOOLEAN',
};

export function translateType(dataType: string): string {
  return TYPE_LABELS[dataType.toUpperCase()] ?? dataType;
}

/** A column name as dbt writes it in contract DDL: raw unless `quote: true`. */
export function contractColumnName(c: ColumnProps): string {
  return c.quote ? quoteIdent(c.name) : c.name;
}

export type RenderExpression = (expression: string) => Promise<string>;

async function columnConstraint(c: ColumnConstraint, render: RenderExpression): Promise<string | null> {
  const expr = c.expression ? await render(c.expression) : '';
  switch (c.type) {
    case 'not_null':
      return 'not null';
    case 'unique':
      return 'unique';
    case 'primary_key':
      return 'primary key';
    case 'foreign_key':
      return expr ? `references ${expr}` : null;
    case 'check':
      return expr ? `check (${expr})` : null;
    case 'custom':
      return expr || null;
    default:
      return null;
  }
}

async function modelConstraint(c: ColumnConstraint, render: RenderExpression): Promise<string | null> {
  const expr = c.expression ? await render(c.expression) : '';
  const cols = (c.columns ?? []).join(', ');
  const named = c.name ? `constraint ${c.name} ` : '';
  switch (c.type) {
    case 'check':
      return expr ? `${named}check (${expr})` : null;
    case 'unique':
      return `${named}unique (${cols})`;
    case 'primary_key':
      return `${named}primary key (${cols})`;
    case 'foreign_key':
      return expr ? `${named}foreign key (${cols}) references ${expr}` : null;
    case 'custom':
      return expr || null;
    default:
      return null;
  }
}

/** `( col type constraints…, model constraints… )` as dbt's get_table_columns_and_constraints. */
export async function columnsAndConstraints(
  columns: ColumnProps[],
  constraints: ColumnConstraint[],
  render: RenderExpression,
): Promise<string> {
  const lines: string[] = [];
  for (const c of columns) {
    const parts = [contractColumnName(c), translateType(c.dataType ?? 'text')];
    for (const k of c.constraints) {
      const rendered = await columnConstraint(k, render);
      if (rendered) parts.push(rendered);
    }
    lines.push(parts.join(' '));
  }
  for (const k of constraints) {
    const rendered = await modelConstraint(k, render);
    if (rendered) lines.push(rendered);
  }
  return `(\n    ${lines.join(',\n    ')}\n)`;
}

/**
 * The type names dbt-postgres compares in the contract check: psycopg2's type-caster names
 * for the cursor's type codes (so text and varchar are both STRING, as dbt sees them).
 */
const TYPE_CLASS: Record<number, string> = {
  16: 'BOOLEAN',
  18: 'STRING',
  19: 'STRING',
  25: 'STRING',
  1042: 'STRING',
  1043: 'STRING',
  20: 'INTEGER',
  21: 'INTEGER',
  23: 'INTEGER',
  26: 'INTEGER',
  700: 'FLOAT',
  701: 'FLOAT',
  1700: 'DECIMAL',
  1114: 'DATETIME',
  1184: 'DATETIMETZ',
  1082: 'DATE',
  1083: 'TIME',
  1266: 'TIME',
  1186: 'INTERVAL',
  114: 'JSON',
  3802: 'JSONB',
  2950: 'UUID',
  17: 'BINARY',
};
function typeClass(oid: number): string {
  return TYPE_CLASS[oid] ?? `unknown type_code ${oid}`;
}

/** dbt's assert_columns_equivalent: names and type classes must match (order may differ). */
export async function assertColumnsEquivalent(
  s: PgSession,
  sql: string,
  columns: ColumnProps[],
  o: { model: string; file: string },
): Promise<void> {
  const fromSql = await s.query(`select * from (\n${sql}\n) as __dbt_sbq\nwhere false\nlimit 0`);
  const yamlSql = columns
    .map((c) => `cast(null as ${translateType(c.dataType ?? 'text')}) as ${contractColumnName(c)}`)
    .join(', ');
  const fromYaml = await s.query(
    `select * from (select ${yamlSql || '1 as __dbt_none'}) as __dbt_sbq where false limit 0`,
  );
  const sqlCols = fromSql.fields.map((f) => ({ name: f.name.toLowerCase(), type: typeClass(f.dataTypeID) }));
  const yamlCols = fromYaml.fields.map((f) => ({ name: f.name.toLowerCase(), type: typeClass(f.dataTypeID) }));
  const problems: string[] = [];
  for (const y of yamlCols) {
    const m = sqlCols.find((c) => c.name === y.name);
    if (!m) problems.push(`${y.name}: in the contract (${y.type}) but missing from the model's SQL`);
    else if (m.type !== y.type) problems.push(`${y.name}: contract says ${y.type}, the SQL returns ${m.type}`);
  }
  for (const c of sqlCols)
    if (!yamlCols.some((y) => y.name === c.name))
      problems.push(`${c.name}: returned by the SQL (${c.type}) but not in the contract`);
  if (problems.length) {
    throw new EngineError(
      'MODEL_RUN',
      `Model ${o.model} (${o.file}) has an enforced contract that failed: the name, data_type and number of columns in the YAML must match the SQL. ${problems.join('; ')}.`,
      {
        details: { model: o.model, file: o.file, mismatches: problems },
      },
    );
  }
}

/** `select a, b from (sql) as model_subq` — dbt's get_select_subquery for contracted tables. */
export function selectSubquery(sql: string, columns: ColumnProps[]): string {
  return `select ${columns.map(contractColumnName).join(', ')}\n    from (\n        ${sql}\n    ) as model_subq`;
}

/** The DDL+insert dbt runs for a contracted table (not temporary). */
export async function contractedCreateTableAs(
  relation: Relation,
  sql: string,
  columns: ColumnProps[],
  constraints: ColumnConstraint[],
  render: RenderExpression,
  unlogged = false,
): Promise<string> {
  const ddl = await columnsAndConstraints(columns, constraints, render);
  const names = columns.map(contractColumnName).join(', ');
  return `create ${unlogged ? 'unlogged ' : ''}table ${relation.render()}\n${ddl}\n;\ninsert into ${relation.render()} (\n    ${names}\n)\n(\n    ${selectSubquery(sql, columns)}\n);`;
}
