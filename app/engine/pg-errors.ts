import { EngineError } from '../core/engine-error';

/** Driver errors from the analytics database, translated at the engine's port. */
export function translatePgError(error: unknown, what: string): EngineError {
  if (error instanceof EngineError) return error;
  const e = error as { code?: string; message?: string };
  const message = e.message ?? String(error);
  switch (e.code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EHOSTUNREACH':
    case 'ETIMEDOUT':
    case '57P03':
      return new EngineError('PG_UNREACHABLE', `PostgreSQL cannot be reached (${e.code}) while ${what}. Check the host and port in Settings, and that the server is running.`, { retryable: true, cause: error });
    case '28P01':
    case '28000':
      return new EngineError('PG_AUTH', `PostgreSQL refused the login while ${what}. Check the user name and password in Settings.`, { cause: error });
    case '42501':
      return new EngineError('PG_PERMISSION', `The PostgreSQL user lacks a permission while ${what}: ${message}. Grant it, or use a user that owns the database.`, { cause: error });
    case '3D000':
      return new EngineError('CONFIG_INVALID', `The PostgreSQL database does not exist (${message}). Create it, or correct the database name in Settings.`, { cause: error });
    default:
      return new EngineError('PG_QUERY', `PostgreSQL failed while ${what}: ${message}`, { cause: error, retryable: e.code === '40001' || e.code === '40P01' });
  }
}
