import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SyncState, SyncStateKind } from '../../../app/contract/dto';
import type { WireError } from '../../../app/contract/errors';
import {
  backoffDelayMs,
  transition,
  type RetryPolicy,
  type SyncMachineEvent,
  type SyncMachineEventType,
} from '../../../app/sync/state-machine';

const NOW = new Date('2026-11-28T12:00:00.000Z');
const POLICY: RetryPolicy = { maxAttempts: 3, downBaseMs: 1000, slowBaseMs: 5000, maxDelayMs: 8000 };
const DOWN: WireError = { code: 'COUCH_UNREACHABLE', message: 'down', retryable: true };
const FATAL: WireError = { code: 'COUCH_AUTH', message: '401', retryable: false };

const EVENTS: Record<SyncMachineEventType, SyncMachineEvent> = {
  start: { type: 'start' },
  connected: { type: 'connected' },
  progressed: { type: 'progressed' },
  'caught-up': { type: 'caught-up' },
  failed: { type: 'failed', error: DOWN },
  retry: { type: 'retry' },
  pause: { type: 'pause' },
  resume: { type: 'resume' },
  stop: { type: 'stop' },
};

const STATES: Record<SyncStateKind, SyncState> = {
  idle: { kind: 'idle', since: '2026-11-28T11:00:00.000Z' },
  connecting: { kind: 'connecting', since: '2026-11-28T11:00:00.000Z', attempt: 1 },
  'catching-up': { kind: 'catching-up', since: '2026-11-28T11:00:00.000Z', attempt: 0 },
  live: { kind: 'live', since: '2026-11-28T11:00:00.000Z', attempt: 0 },
  'backing-off': {
    kind: 'backing-off',
    since: '2026-11-28T11:00:00.000Z',
    attempt: 1,
    error: DOWN,
    retryAt: '2026-11-28T11:00:01.000Z',
  },
  paused: { kind: 'paused', since: '2026-11-28T11:00:00.000Z' },
  error: { kind: 'error', since: '2026-11-28T11:00:00.000Z', error: FATAL, attempt: 1 },
};

/** Expected next kind for every (state × event); '=' means the event is ignored (same object back). */
const TABLE: Record<SyncStateKind, Record<SyncMachineEventType, SyncStateKind | '='>> = {
  idle: {
    start: 'connecting',
    connected: '=',
    progressed: '=',
    'caught-up': '=',
    failed: '=',
    retry: '=',
    pause: 'paused',
    resume: '=',
    stop: '=',
  },
  connecting: {
    start: '=',
    connected: 'catching-up',
    progressed: '=',
    'caught-up': 'live',
    failed: 'backing-off',
    retry: '=',
    pause: 'paused',
    resume: '=',
    stop: 'idle',
  },
  'catching-up': {
    start: '=',
    connected: '=',
    progressed: '=',
    'caught-up': 'live',
    failed: 'backing-off',
    retry: '=',
    pause: 'paused',
    resume: '=',
    stop: 'idle',
  },
  live: {
    start: '=',
    connected: '=',
    progressed: '=',
    'caught-up': '=',
    failed: 'backing-off',
    retry: '=',
    pause: 'paused',
    resume: '=',
    stop: 'idle',
  },
  'backing-off': {
    start: 'connecting',
    connected: '=',
    progressed: '=',
    'caught-up': '=',
    failed: '=',
    retry: 'connecting',
    pause: 'paused',
    resume: '=',
    stop: 'idle',
  },
  paused: {
    start: 'connecting',
    connected: '=',
    progressed: '=',
    'caught-up': '=',
    failed: '=',
    retry: '=',
    pause: '=',
    resume: 'connecting',
    stop: 'idle',
  },
  error: {
    start: 'connecting',
    connected: '=',
    progressed: '=',
    'caught-up': '=',
    failed: '=',
    retry: '=',
    pause: 'paused',
    resume: 'connecting',
    stop: 'idle',
  },
};

describe('sync state machine', () => {
  for (const [kind, row] of Object.entries(TABLE) as [
    SyncStateKind,
    Record<SyncMachineEventType, SyncStateKind | '='>,
  ][]) {
    for (const [eventType, expected] of Object.entries(row) as [SyncMachineEventType, SyncStateKind | '='][]) {
      it(`${kind} × ${eventType} → ${expected === '=' ? 'unchanged' : expected}`, () => {
        const from = STATES[kind];
        const snapshot = JSON.stringify(from);
        const next = transition(from, EVENTS[eventType], NOW, POLICY);
        assert.equal(JSON.stringify(from), snapshot, 'the input state is never mutated');
        if (expected === '=') {
          assert.equal(next, from);
        } else {
          assert.equal(next.kind, expected);
          assert.equal(next.since, NOW.toISOString());
          assert.ok(Object.isFrozen(next), 'states are immutable');
        }
      });
    }
  }

  it('covers every state and every event', () => {
    assert.equal(Object.keys(TABLE).length, Object.keys(STATES).length);
    for (const row of Object.values(TABLE)) assert.deepEqual(Object.keys(row).sort(), Object.keys(EVENTS).sort());
  });

  it('a non-retryable failure goes to error, keeping the error', () => {
    const next = transition(STATES['catching-up'], { type: 'failed', error: FATAL }, NOW, POLICY);
    assert.equal(next.kind, 'error');
    assert.equal(next.error?.code, 'COUCH_AUTH');
  });

  it('retries are bounded: the attempt after maxAttempts is an error', () => {
    let state: SyncState = transition(STATES.idle, EVENTS.start, NOW, POLICY);
    const kinds: string[] = [];
    for (let i = 0; i < 4; i++) {
      state = transition(state, EVENTS.failed, NOW, POLICY);
      kinds.push(`${state.kind}:${state.attempt}`);
      state = transition(state, EVENTS.retry, NOW, POLICY);
    }
    assert.deepEqual(kinds, ['backing-off:1', 'backing-off:2', 'backing-off:3', 'error:4']);
  });

  it('committed progress resets the attempt count; a mere connection does not', () => {
    let state = transition(STATES.connecting, EVENTS.failed, NOW, POLICY);
    state = transition(state, EVENTS.retry, NOW, POLICY);
    assert.equal(state.attempt, 2);
    state = transition(state, EVENTS.connected, NOW, POLICY);
    assert.equal(state.kind, 'catching-up');
    assert.equal(state.attempt, 2, 'a server that answers and then fails still runs out of attempts');
    const progressed = transition(state, EVENTS.progressed, NOW, POLICY);
    assert.equal(progressed.kind, 'catching-up');
    assert.equal(progressed.attempt, 0);
    assert.equal(progressed.since, state.since, 'the same state, only the count reset');
    state = transition(progressed, EVENTS.failed, NOW, POLICY);
    assert.equal(state.attempt, 1);
    assert.equal(state.retryAt, new Date(NOW.getTime() + 1000).toISOString());
    const liveAfterRetries = transition(
      { kind: 'live', since: NOW.toISOString(), attempt: 3 },
      EVENTS.progressed,
      NOW,
      POLICY,
    );
    assert.equal(liveAfterRetries.attempt, 0);
  });

  it('backoff doubles, is capped, and waits longer for a slow server than for a down one', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((a) => backoffDelayMs(a, DOWN, POLICY)),
      [1000, 2000, 4000, 8000, 8000],
    );
    const slow: WireError = { code: 'COUCH_TIMEOUT', message: 'slow', retryable: true };
    assert.deepEqual(
      [1, 2].map((a) => backoffDelayMs(a, slow, POLICY)),
      [5000, 8000],
    );
    assert.equal(backoffDelayMs(1000, DOWN, POLICY), 8000);
  });
});
