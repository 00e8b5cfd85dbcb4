import pg from 'pg';

/**
 * A comparable picture of what a dbt run left in a schema: every relation's kind, columns
 * (order and type), constraints, and rows (as text, sorted). Index names are random in dbt,
 * so indexes are compared by definition with the name removed.
 */
export interface SchemaSnapshot {
  [relation: string]: {
    kind: string;
    columns: string[];
    constraints: string[];
    indexes: string[];
    rows: string[];
  };
}

export async function snapshotSchema(url: string, schema: string, skip: string[] = []): Promise<SchemaSnapshot> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const rels = await client.query<{ relname: string; relkind: string }>(
      `select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = $1 and c.relkind in ('r','v','m') order by c.relname`,
      [schema],
    );
    const out: SchemaSnapshot = {};
    for (const { relname, relkind } of rels.rows) {
      if (skip.includes(relname)) continue;
      const q = `"${schema}"."${relname}"`;
      const cols = await client.query<{ c: string }>(
        `select a.attname || ' ' || format_type(a.atttypid, a.atttypmod) as c from pg_attribute a
          where a.attrelid = $1::regclass and a.attnum > 0 and not a.attisdropped order by a.attnum`,
        [q],
      );
      const cons = await client.query<{ c: string }>(
        `select contype::text || ' ' || pg_get_constraintdef(oid) as c from pg_constraint where conrelid = $1::regclass order by 1`,
        [q],
      );
      const idx = await client.query<{ c: string }>(
        `select regexp_replace(indexdef, 'INDEX \\S+ ON', 'INDEX ON') as c from pg_indexes where schemaname = $1 and tablename = $2 order by 1`,
        [schema, relname],
      );
      const rows = await client.query<{ r: string }>(`select t::text as r from ${q} t`);
      out[relname] = {
        kind: relkind,
        columns: cols.rows.map((r) => r.c),
        constraints: cons.rows.map((r) => r.c),
        indexes: idx.rows.map((r) => r.c).sort(),
        rows: rows.rows.map((r) => r.r).sort(),
      };
    }
    return out;
  } finally {
    await client.end();
  }
}
