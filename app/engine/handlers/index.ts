import type { HandlerTable } from '../types';
import { dataHandlers } from './data';
import type { EngineParts } from './parts';
import { runsHandlers } from './runs';
import { settingsHandlers } from './settings';
import { setupHandlers } from './setup';
import { syncHandlers } from './sync';
import { transformHandlers } from './transforms';

export { exportCsv } from './data';
export type { EngineParts } from './parts';

/** Every method of app/contract, each domain's from its own file. */
export function createHandlers(parts: EngineParts): HandlerTable {
  return {
    ...runsHandlers(parts),
    ...settingsHandlers(parts),
    ...setupHandlers(parts),
    ...syncHandlers(parts),
    ...transformHandlers(parts),
    ...dataHandlers(parts),
  };
}
