/**
 * The `source` column, exactly as cht-sync 2.x writes it: couch2pg builds the database URL
 * from COUCHDB_HOST/PORT and stores `${url.hostname}${url.pathname}` — the host name
 * without port or credentials, a slash, the database name (e.g. `cht.example.org/medic`).
 * CHT Pipeline splits it with split_part(source, '/', 1|2) into `instance` and `dbname`,
 * so a path prefix of a proxied CouchDB URL is deliberately left out.
 */
export function sourceFor(couchUrl: string, database: string): string {
  const host = new URL(couchUrl).hostname;
  return `${host}/${database}`;
}

/**
 * Sources in precedence order for the `couchdb` table (first wins a shared `_id`): the configured
 * order, except that `_users` always comes last. `org.couchdb.user:*` exists in both `_users`
 * (type `user`) and `medic` (type `user-settings`); CHT Pipeline's `user` model reads the
 * `user-settings` rows from the main table, so `medic` must keep those ids whatever order the
 * databases were listed in. The `_users` rows are kept in `couchdb_shadowed`.
 */
export function precedenceFor(couchUrl: string, databases: readonly string[]): string[] {
  const ordered = [...databases.filter((d) => d !== '_users'), ...databases.filter((d) => d === '_users')];
  return [...new Set(ordered.map((d) => sourceFor(couchUrl, d)))];
}
