import type { AppInfo } from '../contract';
import type { Logger } from '../core/logger';
import type { Store } from '../store';
import type { EventBus } from './event-bus';
import type { EngineModules } from './modules';

/** What every part of the engine shares; built once by createEngine. */
export interface EngineContext {
  readonly dataDir: string;
  readonly info: AppInfo;
  readonly logger: Logger;
  readonly modules: EngineModules;
  readonly store: Store;
  readonly bus: EventBus;
  /** Aborted when the engine starts closing: work that finishes after that must not start anything new. */
  readonly closing: AbortSignal;
  /** Electron's version when hosted by it, for diagnostics. */
  readonly electronVersion: string | null;
  /** Tests only: the length of a schedule "minute". */
  readonly minuteMs: number;
}
