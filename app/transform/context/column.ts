import { callable } from '../jinja/values';

/**
 * dbt's `api.Column` as dbt-postgres defines it: a column name, its type and sizes, with the
 * class helpers templates call (`translate_type`, `numeric_type`, `string_type`, `create`).
 * Calling `api.Column('a', 'integer')` constructs one, as in Python.
 */
const TYPE_LABELS: Record<string, string> = { STRING: 'TEXT' };
const STRING_TYPES = ['text', 'character varying', 'character', 'varchar'];
const FLOAT_TYPES = ['real', 'float4', 'float', 'double precision', 'float8', 'double'];
const INTEGER_TYPES = [
  'smallint',
  'integer',
  'bigint',
  'smallserial',
  'serial',
  'bigserial',
  'int2',
  'int4',
  'int8',
  'serial2',
  'serial4',
  'serial8',
];

export function translateType(dtype: string): string {
  return TYPE_LABELS[dtype.toUpperCase()] ?? dtype;
}
export function numericType(dtype: string, precision: unknown, scale: unknown): string {
  return precision === null || precision === undefined || scale === null || scale === undefined
    ? dtype
    : `${dtype}(${String(precision)},${String(scale)})`;
}
export function stringType(size: unknown): string {
  return `character varying(${String(size)})`;
}

export class Column {
  readonly column: string;
  readonly dtype: string;
  readonly char_size: number | null;
  readonly numeric_precision: number | null;
  readonly numeric_scale: number | null;

  constructor(
    column: string,
    dtype: string,
    charSize: number | null = null,
    precision: number | null = null,
    scale: number | null = null,
  ) {
    this.column = column;
    this.dtype = dtype;
    this.char_size = charSize;
    this.numeric_precision = precision;
    this.numeric_scale = scale;
  }

  get name(): string {
    return this.column;
  }
  get quoted(): string {
    return `"${this.column}"`;
  }
  get data_type(): string {
    const t = this.dtype.toLowerCase();
    // dbt-postgres: text and unsized varchar stay as they are.
    if (t === 'text' || (t === 'character varying' && this.char_size === null)) return this.dtype;
    if (this.isString()) return stringType(this.stringSize());
    if (this.isNumeric()) return numericType(this.dtype, this.numeric_precision, this.numeric_scale);
    return this.dtype;
  }
  get expanded_data_type(): string {
    return this.data_type;
  }
  private isString(): boolean {
    return STRING_TYPES.includes(this.dtype.toLowerCase());
  }
  private isNumeric(): boolean {
    return ['numeric', 'decimal'].includes(this.dtype.toLowerCase());
  }
  private stringSize(): number {
    return this.dtype === 'text' || this.char_size === null ? 256 : this.char_size;
  }
  readonly is_string = callable(() => this.isString());
  readonly is_numeric = callable(() => this.isNumeric());
  readonly is_float = callable(() => FLOAT_TYPES.includes(this.dtype.toLowerCase()));
  readonly is_integer = callable(() => INTEGER_TYPES.includes(this.dtype.toLowerCase()));
  readonly is_number = callable(
    () =>
      this.isNumeric() ||
      FLOAT_TYPES.includes(this.dtype.toLowerCase()) ||
      INTEGER_TYPES.includes(this.dtype.toLowerCase()),
  );
  readonly string_size = callable(() => {
    if (!this.isString()) throw new Error('Called string_size() on non-string field!');
    return this.stringSize();
  });
  readonly can_expand_to = callable(
    ([other]) =>
      other instanceof Column && this.isString() && other.isString() && other.stringSize() > this.stringSize(),
  );
  readonly literal = callable(([value]) => `${String(value)}::${this.data_type}`);

  toString(): string {
    return `<Column ${this.column} (${this.data_type})>`;
  }

  /** `Column.from_description(name, 'numeric(10,2)')`. */
  static fromDescription(name: string, raw: string): Column {
    const m = /^([^(]+)(\(([^)]+)\))?/.exec(raw);
    if (!m) throw new Error(`Could not interpret data type "${raw}"`);
    const parts = m[3]?.split(',') ?? [];
    if (parts.length === 1) return new Column(name, m[1]!, Number.parseInt(parts[0]!, 10));
    if (parts.length === 2)
      return new Column(name, m[1]!, null, Number.parseInt(parts[0]!, 10), Number.parseInt(parts[1]!, 10));
    return new Column(name, m[1]!);
  }
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** `api.Column`: callable like the Python class, with its class methods as attributes. */
export const columnApi = Object.assign(
  callable((args, kwargs) => {
    const get = (i: number, k: string): unknown => (args.length > i ? args[i] : kwargs[k]);
    return new Column(
      String(get(0, 'column')),
      String(get(1, 'dtype')),
      num(get(2, 'char_size')),
      num(get(3, 'numeric_precision')),
      num(get(4, 'numeric_scale')),
    );
  }),
  {
    translate_type: callable(([t]) => translateType(String(t))),
    numeric_type: callable(([t, p, s]) => numericType(String(t), p, s)),
    string_type: callable(([size]) => stringType(size)),
    create: callable(([name, t]) => new Column(String(name), translateType(String(t)))),
    from_description: callable(([name, raw]) => Column.fromDescription(String(name), String(raw))),
  },
);
