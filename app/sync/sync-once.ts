import type { SyncRunResult } from '../contract/dto';
import { runSync } from './run-sync';
import type { SyncAdapters } from './ports';
import type { SyncOptions } from './types';

/** Catch every configured database up to the end of its feed, then return. Never throws. */
export function syncOnce(options: SyncOptions, adapters: SyncAdapters): Promise<Omit<SyncRunResult, 'runId'>> {
  return runSync(options, 'once', adapters);
}
