import { EngineError } from './engine-error';

/** Error codes that mean this computer's own disk refused a write (not a server's failure). */
const DISK_FULL = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);
const NOT_WRITABLE = new Set(['EROFS', 'SQLITE_READONLY', 'SQLITE_CANTOPEN']);

/**
 * A local disk problem (the data folder's disk is full, read-only, or failing) as what it is: a
 * STORE error that says so and how to fix it — never classified as a CouchDB or network failure
 * because it happened while a sync was reading from CouchDB. Looks through `cause` chains.
 * Returns null for anything else.
 */
export function localDiskError(error: unknown, what = 'saving the sync’s state'): EngineError | null {
  for (
    let e: unknown = error, depth = 0;
    e && typeof e === 'object' && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    const path = typeof (e as { path?: unknown }).path === 'string' ? (e as { path: string }).path : null;
    const where = path ? ` (${path})` : '';
    if (DISK_FULL.has(code)) {
      return new EngineError(
        'STORE',
        `The disk of this computer's data folder is full${where} while ${what} (${code}). Free some disk space, or choose another data folder (--data-dir / CHT_SYNC_DATA_DIR), then sync again: what was already copied is kept.`,
        { retryable: true, details: { code, disk: 'full' }, cause: error },
      );
    }
    if (NOT_WRITABLE.has(code) || code.startsWith('SQLITE_IOERR')) {
      return new EngineError(
        'STORE',
        `The app cannot write to its data folder${where} while ${what} (${code}): the disk is read-only or failing. Check the disk, or choose another data folder (--data-dir / CHT_SYNC_DATA_DIR).`,
        { retryable: true, details: { code, disk: 'unwritable' }, cause: error },
      );
    }
  }
  return null;
}
