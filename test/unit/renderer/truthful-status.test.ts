import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DatabaseStatus, SyncRunResult } from '../../../app/contract/dto';
import { describeSyncResult } from '../../../renderer/describe-outcome';
import { describeState } from '../../../renderer/describe-state';
import { en } from '../../../renderer/i18n/en';

const t = ((key: string, vars: Record<string, unknown> = {}) =>
  String((en as Record<string, string>)[key] ?? key).replace(/\{(\w+)\}/g, (_m, k: string) =>
    String(vars[k] ?? ''),
  )) as Parameters<typeof describeState>[1];
const status = (state: DatabaseStatus['state']): DatabaseStatus => ({
  database: 'medic',
  source: 'h/medic',
  state,
  seqShort: null,
  pending: 100,
  docsPerSecond: 3,
  etaSeconds: 30,
  lastSuccessAt: null,
  lastRun: null,
});

describe('the screen tells the truth on a slow link', () => {
  it('a connection that dropped mid-copy reads "Reconnecting", not "Offline"; a server that cannot be reached does', () => {
    const since = new Date().toISOString();
    const dropped = describeState(
      status({
        kind: 'backing-off',
        since,
        retryAt: since,
        error: {
          code: 'COUCH_UNREACHABLE',
          message: 'x closed the connection in the middle of a response',
          retryable: true,
          details: { database: 'medic' },
        },
      }),
      t,
      (s) => s,
    );
    assert.equal(dropped.label, 'Reconnecting');
    const reset = describeState(
      status({
        kind: 'backing-off',
        since,
        error: { code: 'COUCH_UNREACHABLE', message: 'reset', retryable: true, details: { code: 'ECONNRESET' } },
      }),
      t,
      (s) => s,
    );
    assert.equal(reset.label, 'Reconnecting');
    const refused = describeState(
      status({
        kind: 'backing-off',
        since,
        error: { code: 'COUCH_UNREACHABLE', message: 'refused', retryable: true, details: { code: 'ECONNREFUSED' } },
      }),
      t,
      (s) => s,
    );
    assert.equal(refused.label, 'Offline');
  });

  it('"it will be retried" never shows where nothing retries: a stopped database, a finished run', () => {
    const since = new Date().toISOString();
    const stopped = describeState(
      status({
        kind: 'error',
        since,
        error: { code: 'COUCH_SERVER', message: 'X failed (HTTP 500). It will be retried.', retryable: true },
      }),
      t,
      (s) => s,
    );
    assert.doesNotMatch(stopped.detail, /retried/);
  });

  it('the next step names a control on the screen it is shown on', () => {
    const r: SyncRunResult = {
      runId: 1,
      outcome: 'offline',
      startedAt: '2026-01-01T00:00:00Z',
      finishedAt: '2026-01-01T00:01:00Z',
      databases: [
        {
          database: 'medic',
          source: 'h/medic',
          outcome: 'offline',
          docs: 5,
          deletes: 0,
          skipped: [],
          bytes: 1,
          seconds: 1,
          seqBefore: null,
          seqAfter: '5',
          reachedEnd: false,
          error: {
            code: 'COUCH_UNREACHABLE',
            message: 'cut. It will be retried from the last saved position.',
            retryable: true,
          },
        },
      ],
    };
    assert.match(describeSyncResult(r, t, 'en').next ?? '', /“Sync now”/);
    assert.match(describeSyncResult(r, t, 'en', 'first-sync').next ?? '', /“Sync again” below/);
    const partial = describeSyncResult({ ...r, outcome: 'partial' }, t, 'en');
    assert.doesNotMatch(partial.lines.join(' '), /retried/);
  });
});
