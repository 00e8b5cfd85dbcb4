import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProgressTracker } from '../../../app/sync/progress';
import { overallOutcome } from '../../../app/sync/run-sync';
import type { DatabaseRunResult, RunOutcome } from '../../../app/contract/dto';

describe('progress tracker', () => {
  it('uses the feed pending when there is one, and an ETA from the rate', () => {
    const t = new ProgressTracker(0);
    t.record({ rows: 1000, docs: 1000, deletes: 10, bytes: 1e6, seconds: 0.5, feedPending: 4000 });
    assert.equal(t.pending, 4000);
    assert.equal(t.isEstimate, false);
    assert.equal(t.docsPerSecond(), 2000);
    assert.equal(t.etaSeconds(), 2);
    t.reachedEnd();
    assert.equal(t.pending, 0);
    assert.equal(t.etaSeconds(), 0);
  });

  it('without a feed pending (pouchdb-server) estimates from the doc counts and says so', () => {
    const t = new ProgressTracker(0);
    t.record({ rows: 500, docs: 500, deletes: 0, bytes: 1, seconds: 1, feedPending: null });
    assert.equal(t.pending, null);
    t.setEstimateBase(2000);
    assert.equal(t.pending, 1500);
    assert.equal(t.isEstimate, true);
    t.record({ rows: 500, docs: 500, deletes: 0, bytes: 1, seconds: 1, feedPending: null });
    assert.equal(t.pending, 1000);
    t.record({ rows: 2000, docs: 2000, deletes: 0, bytes: 1, seconds: 1, feedPending: null });
    assert.equal(t.pending, 0, 'never negative');
  });

  it('smooths the rate instead of jumping to each batch', () => {
    const t = new ProgressTracker(0);
    t.record({ rows: 1000, docs: 1000, deletes: 0, bytes: 1, seconds: 1, feedPending: null });
    t.record({ rows: 1000, docs: 1000, deletes: 0, bytes: 1, seconds: 0.1, feedPending: null });
    const rate = t.docsPerSecond();
    assert.ok(rate > 1000 && rate < 10000, String(rate));
  });
});

describe('run outcome', () => {
  const db = (outcome: RunOutcome): DatabaseRunResult => ({
    database: 'd',
    source: 'h/d',
    outcome,
    docs: 0,
    deletes: 0,
    skipped: [],
    bytes: 0,
    seconds: 0,
    seqBefore: null,
    seqAfter: null,
    reachedEnd: outcome === 'done',
  });
  it('folds per-database outcomes', () => {
    assert.equal(overallOutcome([db('done'), db('done')], false), 'done');
    assert.equal(overallOutcome([db('done'), db('offline')], false), 'partial');
    assert.equal(overallOutcome([db('offline'), db('offline')], false), 'offline');
    assert.equal(overallOutcome([db('refused'), db('offline')], false), 'failed');
    assert.equal(overallOutcome([db('cancelled'), db('cancelled')], true), 'cancelled');
    assert.equal(overallOutcome([db('done'), db('cancelled')], true), 'partial');
  });
});
