/**
 * A database relation as dbt's `api.Relation`: renders as `"db"."schema"."identifier"`, always
 * quoted (CHT Pipeline has a model named `user`, a reserved word), with the parts dbt lets a
 * caller include or drop.
 */
export type RelationType = 'table' | 'view' | 'materialized_view' | 'cte' | 'external' | null;

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Keyword arguments and dict literals reach methods as plain objects or Maps. */
function plain(v: unknown): Record<string, unknown> {
  if (v instanceof Map) return Object.fromEntries([...v.entries()].map(([k, x]) => [String(k), x]));
  return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
}

export class Relation {
  readonly database: string | null;
  readonly schema: string | null;
  readonly identifier: string;
  readonly type: RelationType;
  readonly includes: { database: boolean; schema: boolean; identifier: boolean };
  /** Which parts render quoted (dbt's quote policy; a project's `quoting:` may turn parts off). */
  readonly quotes: { database: boolean; schema: boolean; identifier: boolean };

  constructor(o: {
    database?: string | null;
    schema?: string | null;
    identifier: string;
    type?: RelationType;
    include?: Partial<Relation['includes']>;
    quote?: Partial<Relation['quotes']>;
  }) {
    this.database = o.database ?? null;
    this.schema = o.schema ?? null;
    this.identifier = o.identifier;
    this.type = o.type ?? null;
    this.includes = { database: true, schema: true, identifier: true, ...o.include };
    this.quotes = { database: true, schema: true, identifier: true, ...o.quote };
  }

  get name(): string {
    return this.identifier;
  }
  get table(): string {
    return this.identifier;
  }
  get is_table(): boolean {
    return this.type === 'table';
  }
  get is_view(): boolean {
    return this.type === 'view';
  }
  get is_materialized_view(): boolean {
    return this.type === 'materialized_view';
  }
  get is_cte(): boolean {
    return this.type === 'cte';
  }

  render(): string {
    if (this.type === 'cte')
      return quoteIdent(this.identifier).slice(1, -1) === this.identifier
        ? this.identifier
        : quoteIdent(this.identifier);
    const parts: string[] = [];
    const q = (name: string, on: boolean): string => (on ? quoteIdent(name) : name);
    if (this.includes.database && this.database) parts.push(q(this.database, this.quotes.database));
    if (this.includes.schema && this.schema) parts.push(q(this.schema, this.quotes.schema));
    if (this.includes.identifier) parts.push(q(this.identifier, this.quotes.identifier));
    return parts.join('.');
  }

  toString(): string {
    return this.render();
  }

  /** `relation.include(database=False)` */
  include(o: unknown = {}): Relation {
    const inc = plain(o) as { database?: boolean; schema?: boolean; identifier?: boolean };
    return new Relation({
      database: this.database,
      schema: this.schema,
      identifier: this.identifier,
      type: this.type,
      include: { ...this.includes, ...inc },
      quote: this.quotes,
    });
  }

  /** `relation.replace_path(identifier=…)` */
  replace_path(o: unknown = {}): Relation {
    return this.incorporate({ path: plain(o) });
  }

  /** `relation.incorporate(path={...}, type=...)`: a key given as none clears that part (dbt-postgres temp relations). */
  incorporate(o: unknown = {}): Relation {
    const opts = plain(o);
    const p = plain(opts.path);
    const pick = (k: 'database' | 'schema' | 'identifier', cur: string | null): string | null =>
      k in p ? (p[k] === null || p[k] === undefined ? null : String(p[k])) : cur;
    return new Relation({
      database: pick('database', this.database),
      schema: pick('schema', this.schema),
      identifier: pick('identifier', this.identifier) ?? this.identifier,
      type: 'type' in opts && opts.type !== undefined ? (opts.type as RelationType) : this.type,
      include: this.includes,
      quote: this.quotes,
    });
  }

  // dbt's Relation is also a dict (FakeAPIObject): `r is mapping`, `r.get('metadata')`, `r['schema']`.
  get metadata(): Record<string, string> {
    return { type: 'PostgresRelation' };
  }
  get path(): Record<string, string | null> {
    return { database: this.database, schema: this.schema, identifier: this.identifier };
  }
  __getitem__(k: unknown): unknown {
    switch (k) {
      case 'database':
      case 'schema':
      case 'identifier':
      case 'type':
      case 'metadata':
      case 'path':
      case 'quote_policy':
        return this[k];
      case 'include_policy':
        return { ...this.includes };
      default:
        return undefined;
    }
  }
  keys(): string[] {
    return ['path', 'type', 'quote_policy', 'include_policy', 'metadata'];
  }
  get(k: unknown, fallback: unknown = null): unknown {
    return this.__getitem__(k) ?? fallback;
  }

  /** PostgreSQL's identifier limit (NAMEDATALEN - 1). */
  relation_max_name_length(): number {
    return 63;
  }

  /** `relation.information_schema('columns')` → `"db".INFORMATION_SCHEMA.columns`, as dbt renders it. */
  information_schema(view?: string): string {
    const db = this.database ? `${this.quotes.database ? quoteIdent(this.database) : this.database}.` : '';
    return `${db}INFORMATION_SCHEMA${view ? `.${view}` : ''}`;
  }

  get quote_policy(): Record<string, boolean> {
    return { ...this.quotes };
  }
  get is_function(): boolean {
    return false;
  }

  /** Schema-qualified without database: what we use in our own DDL (PG cannot cross databases anyway). */
  get qualified(): string {
    return this.schema ? `${quoteIdent(this.schema)}.${quoteIdent(this.identifier)}` : quoteIdent(this.identifier);
  }

  withIdentifier(identifier: string, type: RelationType = this.type): Relation {
    return new Relation({
      database: this.database,
      schema: this.schema,
      identifier,
      type,
      include: this.includes,
      quote: this.quotes,
    });
  }
}
