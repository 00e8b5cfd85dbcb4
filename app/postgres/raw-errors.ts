/**
 * PostgreSQL failures as engine errors. A lost connection (terminated backend, restart,
 * network) is PG_UNREACHABLE and retryable: the batch transaction was rolled back, so the
 * batch is simply written again. A document PostgreSQL refuses is not an error here: the
 * sink skips it (isDocRejection).
 */
import { EngineError } from '../core/engine-error';

const CONNECTION_MESSAGES = /Connection terminated|connection error|not queryable|terminating connection|ECONNRESET|ECONNREFUSED|EPIPE|timeout expired|Connection ended/i;

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
  if (code && (/^08/.test(code) || code === '57P01' || code === '57P02' || code === '57P03' || ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH'].includes(code))) return true;
  const message = error instanceof Error ? error.message : String(error);
  return CONNECTION_MESSAGES.test(message);
}

export function classifyPgError(error: unknown, what: string): EngineError {
  if (error instanceof EngineError) return error;
  const code = pgCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (isConnectionLoss(error)) {
    return new EngineError('PG_UNREACHABLE', `PostgreSQL connection lost while ${what} (${message}). It will be retried; if it persists, check that PostgreSQL is running and reachable.`, { retryable: true, details: { code }, cause: error });
  }
  if (code === '28P01' || code === '28000') {
    return new EngineError('PG_AUTH', `PostgreSQL rejected the login while ${what}. Fix: check POSTGRES_USER / POSTGRES_PASSWORD (or --postgres-url).`, { details: { code }, cause: error });
  }
  if (code === '42501') {
    return new EngineError('PG_PERMISSION', `PostgreSQL denied permission while ${what} (${message}). Fix: grant the sync user CREATE on the database and schema, or use the schema owner.`, { details: { code }, cause: error });
  }
  if (code === '3D000') {
    return new EngineError('PG_UNREACHABLE', `PostgreSQL database does not exist (${message}). Fix: create it or correct POSTGRES_DB.`, { details: { code }, cause: error });
  }
  if (code === '40001' || code === '40P01' || code === '55P03') {
    return new EngineError('PG_QUERY', `PostgreSQL conflict while ${what} (${message}); retried.`, { retryable: true, details: { code }, cause: error });
  }
  if (code === '53100') {
    return new EngineError('PG_QUERY', `PostgreSQL is out of disk space while ${what}. Fix: free disk space on the PostgreSQL server.`, { retryable: true, details: { code }, cause: error });
  }
  return new EngineError('PG_QUERY', `PostgreSQL failed while ${what} (${code ?? 'no code'}: ${message}).`, { details: { code }, cause: error });
}
