import type { HandlerTable } from '../types';
import type { EngineParts } from './parts';

/** A manual transform run (BUSY while one runs). */
export function transformHandlers({ transforms }: EngineParts): Pick<HandlerTable, 'transform.runNow'> {
  return {
    'transform.runNow': async (args) => transforms.transformNow({ trigger: 'manual', ...args }),
  };
}
