import { startDemoCouch } from '../demo';
import { startEmbeddedPostgres } from '../postgres/embedded';
import { checkDatabases, couchGet, probeCouch, probeLink, probePostgres } from '../preflight';
import { sourceFor } from '../sync';
import { syncFollow, syncOnce } from './sync-wiring';
import { runTransform } from '../transform';
import { verifyRaw } from '../verify/verify-raw';
import { listPlacesOn } from '../scope';
import type { EngineModules } from './modules';

/** The real stage modules, bound once for production use. */
export const defaultModules: EngineModules = {
  syncOnce,
  syncFollow,
  sourceFor,
  runTransform,
  verifyRaw,
  listPlaces: listPlacesOn,
  probeCouch,
  probePostgres,
  checkDatabases,
  couchGet,
  probeLink,
  startDemoCouch,
  startEmbeddedPostgres,
};
