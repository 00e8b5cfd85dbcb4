/**
 * The one translation of PostgreSQL failures into engine errors, used by the raw sink,
 * the sync, the engine (pool, transforms, data) and preflight's login check. One rule
 * per SQLSTATE / socket error:
 * - unreachable (refused, unknown host, timeout, a lost connection, too many connections):
 *   PG_UNREACHABLE, retryable (a batch transaction was rolled back: it is simply written again);
 * - a refused login: PG_AUTH; a missing privilege: PG_PERMISSION;
 * - a missing database (3D000): CONFIG_INVALID — the user fixes the setting;
 * - serialization failures, deadlocks, lock timeouts, a full disk: PG_QUERY, retryable;
 * - anything else: PG_QUERY.
 * A document PostgreSQL refuses is not an error here: the sink skips it (isDocRejection).
 * Messages name the server, user and setting when the caller knows them (preflight's login
 * check), and never a password.
 */
import { EngineError } from '../core/engine-error';

const CONNECTION_MESSAGES =
  /Connection terminated|connection error|not queryable|terminating connection|ECONNRESET|ECONNREFUSED|EPIPE|timeout expired|Connection ended/i;
const SQLSTATE = /^[0-9A-Z]{5}$/;

/** Where a connection was attempted, for messages that name the server, the user and the setting to fix. */
export interface PgTarget {
  host: string;
  port: number;
  user: string;
  database: string;
  hasPassword: boolean;
  /** The setting the connection came from, e.g. "--postgres-url, or POSTGRES_HOST / …". */
  setting: string;
}

export function pgCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Errors caused by one document's content (bad text, bad JSON, too large), not by the database. */
export function isDocRejection(error: unknown): boolean {
  const code = pgCode(error);
  return code !== undefined && /^(22|54)/.test(code);
}

export function isConnectionLoss(error: unknown): boolean {
  const code = pgCode(error);
  if (
    code &&
    (/^08/.test(code) ||
      code === '57P01' ||
      code === '57P02' ||
      code === '57P03' ||
      ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH'].includes(code))
  )
    return true;
  const message = error instanceof Error ? error.message : String(error);
  return CONNECTION_MESSAGES.test(message);
}

const GENERIC_SETTING =
  'the PostgreSQL settings (Settings, or --postgres-url / POSTGRES_HOST / POSTGRES_PORT / POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB)';

/** `error` from the pg driver (or a socket) while doing `what`, as an engine error; an EngineError passes through. */
export function translatePgError(error: unknown, what: string, target?: PgTarget): EngineError {
  if (error instanceof EngineError) return error;
  const code = pgCode(error) ?? '';
  const message = error instanceof Error ? error.message : String(error);
  const isSqlState = SQLSTATE.test(code);
  const t = target;
  const where = t ? `${t.host}:${t.port}` : null;
  const at = where ? ` at ${where}` : '';
  const setting = t?.setting ?? GENERIC_SETTING;
  const details: Record<string, unknown> = t
    ? { host: t.host, port: t.port, user: t.user, database: t.database, code }
    : { code: code || undefined };
  const fail = (
    errorCode: ConstructorParameters<typeof EngineError>[0],
    text: string,
    retryable = false,
    extra: Record<string, unknown> = {},
  ): EngineError => new EngineError(errorCode, text, { retryable, details: { ...details, ...extra }, cause: error });

  if (code === 'ECONNREFUSED') {
    return fail(
      'PG_UNREACHABLE',
      `Nothing accepts PostgreSQL connections${at || ''} (connection refused) while ${what}. Is PostgreSQL running and listening there? Check ${setting}, or leave them unset to use the embedded PostgreSQL.`,
      true,
    );
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return fail(
      'PG_UNREACHABLE',
      `The PostgreSQL host name${t ? ` '${t.host}'` : ''} cannot be found (${code}) while ${what}. Check ${setting}.`,
      true,
    );
  }
  if (
    code === 'ETIMEDOUT' ||
    code === 'EHOSTUNREACH' ||
    code === 'ENETUNREACH' ||
    (!isSqlState && /timeout/i.test(message) && !CONNECTION_MESSAGES.test(message))
  ) {
    return fail(
      'PG_UNREACHABLE',
      `PostgreSQL${at} did not answer in time (${code || 'timeout'}) while ${what}. Check the host and port in ${setting}, and that a firewall allows the connection.`,
      true,
    );
  }
  if (isConnectionLoss(error)) {
    return fail(
      'PG_UNREACHABLE',
      `PostgreSQL${at} cannot be reached or dropped the connection while ${what} (${code || message}). It is retried; if it persists, check that PostgreSQL is running and reachable (${setting}).`,
      true,
    );
  }
  if (code === '28P01') {
    return fail(
      'PG_AUTH',
      `PostgreSQL${at} rejected the password${t ? ` for the user '${t.user}'` : ''} while ${what}. Check POSTGRES_PASSWORD (or the password in --postgres-url, or in Settings).`,
    );
  }
  if (!isSqlState && /SASL|SCRAM/i.test(message)) {
    const fix =
      t && !t.hasPassword
        ? 'Set POSTGRES_PASSWORD (or put the password in --postgres-url).'
        : 'Check POSTGRES_PASSWORD (or the password in --postgres-url).';
    const given = t ? (t.hasPassword ? 'the one given did not work' : 'none was given') : 'the login failed';
    return fail(
      'PG_AUTH',
      `PostgreSQL${at} requires a password${t ? ` for the user '${t.user}'` : ''} (scram-sha-256 authentication) and ${given}. ${fix}`,
    );
  }
  if (code === '28000') {
    const user = t?.user ?? 'the configured user';
    const text = /role .* does not exist/i.test(message)
      ? `PostgreSQL${at} has no user (role) '${user}'. Create it (CREATE ROLE "${user}" LOGIN PASSWORD '…';) or fix POSTGRES_USER.`
      : `PostgreSQL${at} does not allow ${t ? `the user '${t.user}'` : 'this user'} to connect${t ? ` to '${t.database}'` : ''} from this computer (pg_hba.conf). Add a pg_hba.conf line for this host and user, or check POSTGRES_USER.`;
    return fail('PG_AUTH', text);
  }
  if (code === '3D000') {
    const text = t
      ? `The PostgreSQL database '${t.database}' does not exist on ${where}. Create it (CREATE DATABASE "${t.database}";) or fix POSTGRES_DB (the path of --postgres-url).`
      : `The PostgreSQL database does not exist (${message}) while ${what}. Create it, or correct the database name (in Settings, or POSTGRES_DB / the path of --postgres-url).`;
    return fail('CONFIG_INVALID', text, false, { setting: 'POSTGRES_DB' });
  }
  if (code === '42501') {
    const text = t
      ? `The PostgreSQL user '${t.user}' may not connect to the database '${t.database}' on ${where}. As an administrator run: GRANT CONNECT ON DATABASE "${t.database}" TO "${t.user}";`
      : `The PostgreSQL user lacks a permission while ${what}: ${message}. Grant it (e.g. CREATE on the database and schema), or use a user that owns the database.`;
    return fail('PG_PERMISSION', text);
  }
  if (code === '53300') {
    return fail(
      'PG_UNREACHABLE',
      `PostgreSQL${at} has too many connections. Try again later, or raise max_connections.`,
      true,
    );
  }
  if (
    !isSqlState &&
    (/self[- ]signed|certificate|SSL|TLS/i.test(message) || code.startsWith('ERR_TLS') || code.includes('CERT'))
  ) {
    return fail(
      'PG_UNREACHABLE',
      `The secure (SSL) connection to PostgreSQL${at} failed (${code || message}). Check the server's SSL setup, or the sslmode in --postgres-url.`,
    );
  }
  if (code === '40001' || code === '40P01' || code === '55P03') {
    return fail('PG_QUERY', `PostgreSQL conflict while ${what} (${message}); retried.`, true);
  }
  if (code === '53100') {
    return fail(
      'PG_QUERY',
      `PostgreSQL is out of disk space while ${what}. Fix: free disk space on the PostgreSQL server.`,
      true,
    );
  }
  if (t && !isSqlState) {
    return fail(
      'PG_UNREACHABLE',
      `Could not connect to PostgreSQL at ${where} as '${t.user}' (${code || message}). Check ${setting}.`,
      true,
    );
  }
  return fail('PG_QUERY', `PostgreSQL failed while ${what} (${code || 'no code'}: ${message}).`);
}
