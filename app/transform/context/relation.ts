/**
 * A database relation as dbt's `api.Relation`: renders as `"db"."schema"."identifier"`, always
 * quoted (CHT Pipeline has a model named `user`, a reserved word), with the parts dbt lets a
 * caller include or drop.
 */
export type RelationType = 'table' | 'view' | 'materialized_view' | 'cte' | 'external' | null;

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export class Relation {
  readonly database: string | null;
  readonly schema: string | null;
  readonly identifier: string;
  readonly type: RelationType;
  readonly includes: { database: boolean; schema: boolean; identifier: boolean };

  constructor(o: { database?: string | null; schema?: string | null; identifier: string; type?: RelationType; include?: Partial<Relation['includes']> }) {
    this.database = o.database ?? null;
    this.schema = o.schema ?? null;
    this.identifier = o.identifier;
    this.type = o.type ?? null;
    this.includes = { database: true, schema: true, identifier: true, ...o.include };
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
    if (this.type === 'cte') return quoteIdent(this.identifier).slice(1, -1) === this.identifier ? this.identifier : quoteIdent(this.identifier);
    const parts: string[] = [];
    if (this.includes.database && this.database) parts.push(quoteIdent(this.database));
    if (this.includes.schema && this.schema) parts.push(quoteIdent(this.schema));
    if (this.includes.identifier) parts.push(quoteIdent(this.identifier));
    return parts.join('.');
  }

  toString(): string {
    return this.render();
  }

  /** `relation.include(database=False)` */
  include(o: { database?: boolean; schema?: boolean; identifier?: boolean } = {}): Relation {
    return new Relation({ database: this.database, schema: this.schema, identifier: this.identifier, type: this.type, include: { ...this.includes, ...o } });
  }

  incorporate(o: { path?: { database?: string; schema?: string; identifier?: string }; type?: RelationType } = {}): Relation {
    return new Relation({
      database: o.path?.database ?? this.database,
      schema: o.path?.schema ?? this.schema,
      identifier: o.path?.identifier ?? this.identifier,
      type: o.type ?? this.type,
      include: this.includes,
    });
  }

  /** Schema-qualified without database: what we use in our own DDL (PG cannot cross databases anyway). */
  get qualified(): string {
    return this.schema ? `${quoteIdent(this.schema)}.${quoteIdent(this.identifier)}` : quoteIdent(this.identifier);
  }

  withIdentifier(identifier: string, type: RelationType = this.type): Relation {
    return new Relation({ database: this.database, schema: this.schema, identifier, type, include: this.includes });
  }
}
