import type { Migration } from './migration';
import { migration0001 } from './0001-initial';
import { migration0002 } from './0002-runs-by-finish-time';
import { migration0003 } from './0003-verify-runs';
import { migration0004 } from './0004-run-model-tests';

/** Every known migration, in order. Bundled into the build (no files read at run time). */
export const MIGRATIONS: readonly Migration[] = [migration0001, migration0002, migration0003, migration0004];
