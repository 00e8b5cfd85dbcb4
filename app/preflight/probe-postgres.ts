import pg from 'pg';
import type { PostgresTestResult } from '../contract/dto';
import { EngineError } from '../core/engine-error';
import { registerSecret } from '../core/redact';

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
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || decodeURIComponent(parsed.username) || 'postgres',
    hasPassword: parsed.password !== '',
  };
  const setting = opts.settingName ?? 'the PostgreSQL settings (--postgres-url, or POSTGRES_HOST / POSTGRES_PORT / POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB)';
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: opts.timeoutMs ?? 10_000, query_timeout: opts.timeoutMs ?? 10_000 });
  // A server that drops the connection after connect would otherwise crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw classifyConnectError(error, target, setting);
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
      await client.query(`create table ${quoteIdent(schema)}.${quoteIdent(`cht_sync_probe_${process.pid}`)} (x integer)`);
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
        throw new EngineError('PG_PERMISSION', `The PostgreSQL server ${target.host}:${target.port} is read-only (a replica or in recovery). Point ${setting} at the primary server.`, { details: { code } });
      }
      throw new EngineError('PG_QUERY', `Creating the schema '${schema}' in '${target.database}' failed: ${(denied as Error | null)?.message ?? 'unknown error'}.`, { details: { code: code ?? null }, cause: denied });
    }
    return { serverVersion, canCreateSchema };
  } catch (error) {
    if (error instanceof EngineError) throw error;
    throw new EngineError('PG_QUERY', `PostgreSQL at ${target.host}:${target.port} failed a basic query: ${(error as Error).message}.`, { cause: error });
  } finally {
    await client.end().catch(() => undefined);
  }
}

interface Target {
  host: string;
  port: number;
  user: string;
  database: string;
  hasPassword: boolean;
}

export function classifyConnectError(error: unknown, t: Target, setting: string): EngineError {
  const code = String((error as { code?: unknown }).code ?? '');
  const message = error instanceof Error ? error.message : String(error);
  const where = `${t.host}:${t.port}`;
  const details = { host: t.host, port: t.port, user: t.user, database: t.database, code };
  if (code === 'ECONNREFUSED') {
    return new EngineError('PG_UNREACHABLE', `Nothing accepts PostgreSQL connections at ${where} (connection refused). Is PostgreSQL running and listening there? Check ${setting}, or leave them unset to use the embedded PostgreSQL.`, { retryable: true, details, cause: error });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new EngineError('PG_UNREACHABLE', `The PostgreSQL host name '${t.host}' cannot be found (${code}). Check ${setting}.`, { retryable: code === 'EAI_AGAIN', details, cause: error });
  }
  if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || /timeout/i.test(message)) {
    return new EngineError('PG_UNREACHABLE', `PostgreSQL at ${where} did not answer in time (${code || 'timeout'}). Check the host and port in ${setting}, and that a firewall allows the connection.`, { retryable: true, details, cause: error });
  }
  if (code === '28P01') {
    return new EngineError('PG_AUTH', `PostgreSQL at ${where} rejected the password for the user '${t.user}'. Check POSTGRES_PASSWORD (or the password in --postgres-url).`, { details, cause: error });
  }
  if (/SASL|SCRAM/i.test(message)) {
    const fix = t.hasPassword
      ? 'Check POSTGRES_PASSWORD (or the password in --postgres-url).'
      : 'Set POSTGRES_PASSWORD (or put the password in --postgres-url).';
    return new EngineError('PG_AUTH', `PostgreSQL at ${where} requires a password for the user '${t.user}' (scram-sha-256 authentication) and ${t.hasPassword ? 'the one given did not work' : 'none was given'}. ${fix}`, { details, cause: error });
  }
  if (code === '28000') {
    const noRole = /role .* does not exist/i.test(message);
    return new EngineError(
      'PG_AUTH',
      noRole
        ? `PostgreSQL at ${where} has no user (role) '${t.user}'. Create it (CREATE ROLE "${t.user}" LOGIN PASSWORD '…';) or fix POSTGRES_USER.`
        : `PostgreSQL at ${where} does not allow the user '${t.user}' to connect to '${t.database}' from this computer (pg_hba.conf). Add a pg_hba.conf line for this host and user, or check POSTGRES_USER.`,
      { details, cause: error },
    );
  }
  if (code === '3D000') {
    return new EngineError('CONFIG_INVALID', `The PostgreSQL database '${t.database}' does not exist on ${where}. Create it (CREATE DATABASE "${t.database}";) or fix POSTGRES_DB (the path of --postgres-url).`, { details: { ...details, setting: 'POSTGRES_DB' }, cause: error });
  }
  if (code === '42501') {
    return new EngineError('PG_PERMISSION', `The PostgreSQL user '${t.user}' may not connect to the database '${t.database}' on ${where}. As an administrator run: GRANT CONNECT ON DATABASE "${t.database}" TO "${t.user}";`, { details, cause: error });
  }
  if (code === '53300') {
    return new EngineError('PG_UNREACHABLE', `PostgreSQL at ${where} has too many connections. Try again later, or raise max_connections.`, { retryable: true, details, cause: error });
  }
  if (/self[- ]signed|certificate|SSL|TLS/i.test(message) || code.startsWith('ERR_TLS') || code.includes('CERT')) {
    return new EngineError('PG_UNREACHABLE', `The secure (SSL) connection to PostgreSQL at ${where} failed (${code || message}). Check the server's SSL setup, or the sslmode in --postgres-url.`, { details, cause: error });
  }
  return new EngineError('PG_UNREACHABLE', `Could not connect to PostgreSQL at ${where} as '${t.user}' (${code || message}). Check ${setting}.`, { retryable: true, details, cause: error });
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
