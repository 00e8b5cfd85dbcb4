import type { startDemoCouch } from '../demo';
import type { startEmbeddedPostgres } from '../postgres/embedded';
import type { checkDatabases, couchGet, probeCouch, probeLink, probePostgres } from '../preflight';
import type { sourceFor } from '../sync';
import type { syncFollow, syncOnce } from './sync-wiring';
import type { runTransform } from '../transform';
import type { verifyRaw } from '../verify/verify-raw';
import type { listPlacesOn } from '../scope';

/**
 * The stage modules the composition root depends on (app/sync, app/transform, app/preflight,
 * app/demo, app/postgres), named in one place so tests can substitute one part;
 * default-modules.ts binds the real ones. The types are the modules' own: one signature each.
 */
export interface EngineModules {
  syncOnce: typeof syncOnce;
  syncFollow: typeof syncFollow;
  sourceFor: typeof sourceFor;
  runTransform: typeof runTransform;
  /** Reconciliation: the raw table against the server's ids and revs. */
  verifyRaw: typeof verifyRaw;
  /** The server's places by hierarchy level (the wizard's district step). */
  listPlaces: typeof listPlacesOn;
  probeCouch: typeof probeCouch;
  probePostgres: typeof probePostgres;
  /** COUCH_DB_MISSING (with the near miss) when one does not exist. */
  checkDatabases: typeof checkDatabases;
  couchGet: typeof couchGet;
  /** One timed feed page through the link, for the first-sync estimate. */
  probeLink: typeof probeLink;
  startDemoCouch: typeof startDemoCouch;
  startEmbeddedPostgres: typeof startEmbeddedPostgres;
}

export type { SyncEvent, SyncOptions } from '../sync';
export type { TransformOptions } from '../transform';
export type DemoCouchHandle = Awaited<ReturnType<typeof startDemoCouch>>;
