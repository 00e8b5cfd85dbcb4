import type { DbtRunOptions } from '../transform/dbt-invocation';
import type {
  AppInfo,
  ParsedArgs,
  MethodName,
  MethodResult,
  EventMap,
  EventName,
  SyncRunResult,
  TransformRunResult,
  RunSummary,
} from '../contract';

/** A named secret kept outside the settings (store: 0600 file; desktop: safeStorage). */
export interface SecretStore {
  get(name: string): string | null;
  set(name: string, value: string | null): void;
}

export type Trigger = RunSummary['trigger'];

export type HandlerTable = { [M in MethodName]: (args: ParsedArgs<M>) => Promise<MethodResult<M>> };

export interface EngineEvents {
  on<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void): () => void;
}

/**
 * One Engine per process: the composition root shared by the CLI, the HTTP host
 * and Electron. Concurrency contract:
 *  - `syncNow` while a one-shot sync is running JOINS it (resolves with the running
 *    run's result, never starts a second one); while the continuous daemon sync is
 *    running it rejects with BUSY (a never-ending run cannot be joined).
 *  - `transformNow` while a transform is running rejects with BUSY (retryable):
 *    selections differ between callers, so joining would answer the wrong question.
 */
/** `cht-sync dbt <command>` options passed through to the transform engine (in-process only). */
export type DbtInvocation = DbtRunOptions;

export interface Engine {
  readonly info: AppInfo;
  handlers: HandlerTable;
  events: EngineEvents;
  syncNow(o: { trigger: Trigger; databases?: string[]; timeoutSeconds?: number }): Promise<SyncRunResult>;
  transformNow(o: {
    trigger: Trigger;
    select?: string[];
    exclude?: string[];
    fullRefresh?: boolean;
    vars?: Record<string, unknown>;
    dbt?: DbtInvocation;
  }): Promise<TransformRunResult>;
  /** `cht-sync run` (follow: true) or the desktop schedule (follow: false: the saved interval). */
  startDaemon(o: { follow: boolean; transforms: boolean }): void;
  stopDaemon(): Promise<void>;
  /** Streams a table (or filtered view) as CSV chunks, for transports that can stream (HTTP download). */
  exportCsv(
    args: ParsedArgs<'data.exportCsv'>,
    write: (chunk: string) => void | Promise<void>,
  ): Promise<{ fileName: string; rows: number }>;
  postgresUrl(): string;
  close(): Promise<void>;
}
