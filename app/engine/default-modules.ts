import { EngineError } from '../core/engine-error';
import { startEmbeddedPostgres } from '../postgres/embedded';
import { probeCouch, probePostgres } from '../preflight';
import { sourceFor, syncFollow, syncOnce } from '../sync';
import type { EngineModules } from './modules';

const notYet = (what: string) => (): never => {
  throw new EngineError('INTERNAL', `${what} is not available in this build.`);
};

/** The real stage modules, bound once for production use. */
export const defaultModules: EngineModules = {
  syncOnce,
  syncFollow,
  sourceFor,
  runTransform: notYet('The transform engine'),
  probeCouch,
  probePostgres,
  startDemoCouch: notYet('The demo server'),
  startEmbeddedPostgres,
};
