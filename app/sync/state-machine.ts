/**
 * The per-database sync state machine (DESIGN.md §3):
 *   idle → connecting → catching-up → live,  any active state → backing-off → connecting,
 *   error (not retryable, or out of attempts) and paused on request.
 * States are immutable values with a `kind` (contract SyncState); `transition` is pure: the
 * clock and the retry policy are arguments. An event that means nothing in a state leaves it
 * unchanged (the same object), which the table-driven test checks for every pair.
 */
import type { SyncState, SyncStateKind } from '../contract/dto';
import type { WireError } from '../contract/errors';

export type SyncMachineEvent =
  | { type: 'start' }
  | { type: 'connected' }
  /** A batch was committed: the failure count starts again (a server that answers and then fails never does this). */
  | { type: 'progressed' }
  | { type: 'caught-up' }
  | { type: 'failed'; error: WireError }
  | { type: 'retry' }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' };

export type SyncMachineEventType = SyncMachineEvent['type'];

export interface RetryPolicy {
  /** Failed attempts allowed in a row before `error` (Infinity: keep trying). */
  maxAttempts: number;
  /** First delay when the server is down (refused, reset); doubled per attempt. */
  downBaseMs: number;
  /** First delay when the server is slow (timeouts while connected); doubled per attempt. */
  slowBaseMs: number;
  maxDelayMs: number;
  /** A server's `Retry-After` is honoured up to this long (default 10 minutes). */
  maxRetryAfterMs?: number;
}

/** `sync --once`: a few quick retries, then report. */
export const ONCE_POLICY: RetryPolicy = { maxAttempts: 4, downBaseMs: 250, slowBaseMs: 1000, maxDelayMs: 4000 };
/** Following live: never give up on a retryable error, wait at most a minute. */
export const FOLLOW_POLICY: RetryPolicy = {
  maxAttempts: Number.POSITIVE_INFINITY,
  downBaseMs: 1000,
  slowBaseMs: 5000,
  maxDelayMs: 60_000,
};

export function isSlow(error: WireError): boolean {
  return error.code === 'COUCH_TIMEOUT';
}

/**
 * Bounded exponential backoff; `attempt` counts from 1. A server that said when to come back
 * (`Retry-After`, in the error's details.retryAfterMs) is not asked sooner than that.
 */
export function backoffDelayMs(attempt: number, error: WireError, policy: RetryPolicy): number {
  const base = isSlow(error) ? policy.slowBaseMs : policy.downBaseMs;
  const backoff = Math.min(policy.maxDelayMs, base * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  const asked = error.details?.retryAfterMs;
  if (typeof asked === 'number' && Number.isFinite(asked) && asked > 0)
    return Math.max(backoff, Math.min(asked, policy.maxRetryAfterMs ?? 600_000));
  return backoff;
}

function make(kind: SyncStateKind, now: Date, extra: Partial<SyncState> = {}): SyncState {
  return Object.freeze({ kind, since: now.toISOString(), ...extra });
}

export function initialState(now: Date): SyncState {
  return make('idle', now);
}

function onFailure(state: SyncState, error: WireError, now: Date, policy: RetryPolicy): SyncState {
  const attempt = (state.attempt ?? 0) + 1;
  if (!error.retryable || attempt > policy.maxAttempts) return make('error', now, { error, attempt });
  const delay = backoffDelayMs(attempt, error, policy);
  return make('backing-off', now, { attempt, error, retryAt: new Date(now.getTime() + delay).toISOString() });
}

export function transition(state: SyncState, event: SyncMachineEvent, now: Date, policy: RetryPolicy): SyncState {
  const kind = state.kind;
  if (event.type === 'stop') return kind === 'idle' ? state : make('idle', now);
  if (event.type === 'pause') return kind === 'paused' ? state : make('paused', now);
  switch (kind) {
    case 'idle':
      return event.type === 'start' ? make('connecting', now, { attempt: 0 }) : state;
    case 'connecting':
      // The attempt count survives `connected`: only committed progress resets it, so a server that
      // answers and then fails every time still runs out of attempts.
      if (event.type === 'connected') return make('catching-up', now, { attempt: state.attempt ?? 0 });
      if (event.type === 'caught-up') return make('live', now, { attempt: 0 });
      if (event.type === 'failed') return onFailure(state, event.error, now, policy);
      return state;
    case 'catching-up':
      if (event.type === 'caught-up') return make('live', now, { attempt: 0 });
      if (event.type === 'failed') return onFailure(state, event.error, now, policy);
      if (event.type === 'progressed' && (state.attempt ?? 0) > 0) return Object.freeze({ ...state, attempt: 0 });
      return state;
    case 'live':
      if (event.type === 'failed') return onFailure(state, event.error, now, policy);
      if (event.type === 'progressed' && (state.attempt ?? 0) > 0) return Object.freeze({ ...state, attempt: 0 });
      return state;
    case 'backing-off':
      // `start` = "retry now" from the UI; the attempt count is kept so backoff stays bounded.
      if (event.type === 'retry' || event.type === 'start')
        return make('connecting', now, { attempt: state.attempt ?? 0 });
      return state;
    case 'error':
      if (event.type === 'start' || event.type === 'resume') return make('connecting', now, { attempt: 0 });
      return state;
    case 'paused':
      if (event.type === 'start' || event.type === 'resume') return make('connecting', now, { attempt: 0 });
      return state;
  }
}
