import type { SyncRunResult } from '../contract/dto';
import { runSync } from './run-sync';
import type { SyncAdapters } from './ports';
import type { SyncOptions } from './types';

/**
 * Catch up, then follow every database's continuous feed until `options.signal` aborts.
 * On abort the batch being written commits (or rolls back) whole; the batch read ahead is
 * dropped. Never throws.
 */
export function syncFollow(options: SyncOptions, adapters: SyncAdapters): Promise<Omit<SyncRunResult, 'runId'>> {
  return runSync(options, 'follow', adapters);
}
