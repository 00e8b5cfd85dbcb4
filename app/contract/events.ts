import type { DatabaseStatus, ModelRunResult, RunSummary, SyncProgress, SyncState } from './dto';

/** Events pushed from the engine to every connected UI. Names are `domain.pastTense`. */
export interface EventMap {
  'sync.stateChanged': { database: string; state: SyncState };
  'sync.progress': SyncProgress;
  'sync.statusChanged': DatabaseStatus[];
  'transform.modelFinished': { runId: number; model: ModelRunResult };
  'run.started': RunSummary;
  'run.finished': RunSummary;
  'settings.changed': Record<string, never>;
}

export type EventName = keyof EventMap;

export const EVENT_NAMES: readonly EventName[] = [
  'sync.stateChanged',
  'sync.progress',
  'sync.statusChanged',
  'transform.modelFinished',
  'run.started',
  'run.finished',
  'settings.changed',
];
