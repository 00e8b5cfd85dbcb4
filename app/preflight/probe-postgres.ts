import pg from 'pg';
import type { PostgresTestResult } from '../contract/dto';
import { EngineError } from '../core/engine-error';
import { registerSecret } from '../core/redact';
import { translatePgError } from '../postgres/pg-errors';

export interface PostgresProbeOptions {
  timeoutMs?: number;
  /** The raw schema the sync will write (default v1): checked by creating it in a rolled-back transaction. */
  schema?: string;
  /** Throw PG_PERMISSION when the schema cannot be created or written (sync/transform); the wizard only reports. */
  requireWrite?: boolean;
  /** Which setting the URL came from, for messages (default: "the PostgreSQL settings"). */
  settingName?: string;
}

/**
 * Can we log in, and may we create the raw schema? Errors name the user, the
 * server, the setting and the fix; never the password.
 */
export async function probePostgres(url: string, opts: PostgresProbeOptions = {}): Promise<PostgresTestResult> {
  const parsed = new URL(url);
  registerSecret(decodeURIComponent(parsed.password));
  const target = {
    host: parsed.hostname || 'localhost',
    port: Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username) || process.env.PGUSER || 'postgres',
    database:
      decodeURIComponent(parsed.pathname.replace(/^\//, '')) || decodeURIComponent(parsed.username) || 'postgres',
    hasPassword: parsed.password !== '',
  };
  const setting =
    opts.settingName ??
    'the PostgreSQL settings (--postgres-url, or POSTGRES_HOST / POSTGRES_PORT / POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB)';
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: opts.timeoutMs ?? 10_000,
    query_timeout: opts.timeoutMs ?? 10_000,
  });
  // A server that drops the connection after connect would otherwise crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw translatePgError(error, 'connecting', { ...target, setting });
  }
  try {
    const version = await client.query<{ server_version: string }>('show server_version');
    const serverVersion = version.rows[0]?.server_version ?? 'unknown';
    const schema = opts.schema ?? 'v1';
    let canCreateSchema = false;
    let denied: unknown = null;
    try {
      // Try it for real and roll back: privileges alone miss ownership, default ACLs and read-only replicas.
      await client.query('begin');
      // The lock cht-sync's schema DDL takes (raw-schema.ts): services starting together take turns
      // instead of colliding in the catalog ("duplicate key … pg_namespace_nspname_index").
      await client.query('select pg_advisory_xact_lock(hashtext($1))', [`cht-sync:${schema}:ddl`]);
      await client.query(`create schema if not exists ${quoteIdent(schema)}`);
      await client.query(
        `create table ${quoteIdent(schema)}.${quoteIdent(`cht_sync_probe_${process.pid}`)} (x integer)`,
      );
      canCreateSchema = true;
    } catch (error) {
      denied = error;
    } finally {
      await client.query('rollback').catch(() => undefined);
    }
    if (!canCreateSchema && opts.requireWrite) {
      const code = (denied as { code?: string } | null)?.code;
      if (code === '42501') {
        throw new EngineError(
          'PG_PERMISSION',
          `The PostgreSQL user '${target.user}' may not create the schema '${schema}' or its tables in the database '${target.database}' on ${target.host}:${target.port}. ` +
            `As an administrator run: GRANT CREATE ON DATABASE "${target.database}" TO "${target.user}"; (or create the schema and grant it: CREATE SCHEMA "${schema}" AUTHORIZATION "${target.user}";), or use another user in ${setting}.`,
          { details: { user: target.user, database: target.database, schema, code } },
        );
      }
      if (code === '25006') {
        throw new EngineError(
          'PG_PERMISSION',
          `The PostgreSQL server ${target.host}:${target.port} is read-only (a replica or in recovery). Point ${setting} at the primary server.`,
          { details: { code } },
        );
      }
      throw new EngineError(
        'PG_QUERY',
        `Creating the schema '${schema}' in '${target.database}' failed: ${(denied as Error | null)?.message ?? 'unknown error'}.`,
        { details: { code: code ?? null }, cause: denied },
      );
    }
    return { serverVersion, canCreateSchema };
  } catch (error) {
    if (error instanceof EngineError) throw error;
    throw new EngineError(
      'PG_QUERY',
      `PostgreSQL at ${target.host}:${target.port} failed a basic query: ${(error as Error).message}.`,
      { cause: error },
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
