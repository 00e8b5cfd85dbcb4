import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryAfterMs } from '../../../app/couch/couch-errors';
import { LinkMeter, type ResponseSample } from '../../../app/couch/link-meter';
import { EngineError } from '../../../app/core/engine-error';
import { catchUpBatches, limitForLink } from '../../../app/sync/batcher';
import type { ChangeRow, ChangesSource, FollowItem, PageItem } from '../../../app/sync/ports';
import { backoffDelayMs, ONCE_POLICY } from '../../../app/sync/state-machine';

const page = (o: Partial<ResponseSample>): ResponseSample => ({
  encoding: 'gzip',
  latencyMs: 100,
  streamMs: 1000,
  wireBytes: 100_000,
  decodedBytes: 800_000,
  rows: 700,
  ...o,
});

describe('requests sized for the link', () => {
  it('a fast link keeps the batch size; a slow one gets requests of about max(5 s, 15 × latency)', () => {
    assert.equal(
      limitForLink({ bytesPerSecond: 50_000_000, latencyMs: 2, wireBytesPerRow: 1400, wireBytes: 0 }, 1000),
      1000,
    );
    // 64 kbit/s, 600 ms, 135 bytes a row on the wire: 59 rows/s × 9 s
    assert.equal(
      limitForLink({ bytesPerSecond: 8_000, latencyMs: 600, wireBytesPerRow: 135, wireBytes: 0 }, 1000),
      533,
    );
    // 32 kbit/s, 200 ms: 29.6 rows/s × 5 s
    assert.equal(
      limitForLink({ bytesPerSecond: 4_000, latencyMs: 200, wireBytesPerRow: 135, wireBytes: 0 }, 1000),
      148,
    );
    // 1 Mbit/s, 200 ms: 925 rows/s × 5 s is more than the batch size
    assert.equal(
      limitForLink({ bytesPerSecond: 125_000, latencyMs: 200, wireBytesPerRow: 135, wireBytes: 0 }, 1000),
      1000,
    );
    assert.equal(
      limitForLink({ bytesPerSecond: 500, latencyMs: 900, wireBytesPerRow: 1400, wireBytes: 0 }, 1000),
      20,
      'never below 20 rows',
    );
    assert.equal(
      limitForLink({ bytesPerSecond: null, latencyMs: null, wireBytesPerRow: null, wireBytes: 0 }, 1000),
      null,
    );
  });
});

describe('the link meter: which encoding to ask for', () => {
  it('a near server starts on identity, a far one on gzip', () => {
    const near = new LinkMeter();
    assert.equal(near.isNear, false, 'not timed yet: not near');
    near.probed(4);
    assert.equal(near.encoding(), 'identity');
    assert.equal(near.isNear, true);
    const far = new LinkMeter();
    far.probed(220);
    assert.equal(far.encoding(), 'gzip');
    assert.equal(far.isNear, false);
  });

  it('near is the quickest answer: a slow first answer on a busy machine, then a quick page, is near', () => {
    const m = new LinkMeter();
    m.probed(140);
    assert.equal(m.isNear, false);
    m.record({ encoding: 'gzip', latencyMs: 9, streamMs: 5, wireBytes: 800, decodedBytes: 4000, rows: 10 });
    assert.equal(m.isNear, true);
    m.record({ encoding: 'gzip', latencyMs: 300, streamMs: 5, wireBytes: 800, decodedBytes: 4000, rows: 10 });
    assert.equal(m.isNear, true, 'a later slow answer does not make it far');
    const far = new LinkMeter();
    far.probed(90);
    far.record({ encoding: 'gzip', latencyMs: 85, streamMs: 5, wireBytes: 800, decodedBytes: 4000, rows: 10 });
    assert.equal(far.isNear, false);
  });

  it('a slow identity page goes back to gzip; a slow gzip link never tries identity', () => {
    const m = new LinkMeter();
    m.probed(4);
    m.record(page({ encoding: 'identity', wireBytes: 300_000, decodedBytes: 300_000, streamMs: 1000 })); // 2.4 Mbit/s
    assert.equal(m.encoding(), 'gzip');
    for (let i = 0; i < 60; i++) m.record(page({ wireBytes: 100_000, streamMs: 800 })); // ~1 Mbit/s
    assert.equal(m.encoding(), 'gzip');
  });

  it('a fast gzip link tries identity and keeps the encoding that delivers documents faster', () => {
    const m = new LinkMeter();
    m.probed(80);
    m.record(page({ wireBytes: 200_000, decodedBytes: 1_600_000, streamMs: 100 })); // 2 MB/s on the wire, 16 MB/s of documents
    assert.equal(m.encoding(), 'identity', 'tries identity');
    m.record(page({ encoding: 'identity', wireBytes: 1_600_000, decodedBytes: 1_600_000, streamMs: 400 })); // 4 MB/s of documents
    assert.equal(m.encoding(), 'gzip', 'gzip delivered documents faster');
  });

  it('a server whose gzip stalled stays on identity', () => {
    const m = new LinkMeter(true);
    m.probed(300);
    m.record(page({ encoding: 'identity', wireBytes: 20_000, decodedBytes: 20_000 }));
    assert.equal(m.encoding(), 'identity');
  });
});

describe('hostile servers', () => {
  it('a page that ends at the since it was asked for stops with COUCH_PROTOCOL naming the database', async () => {
    const row = (id: string): ChangeRow => ({ id, seq: null, deleted: false, doc: { _id: id }, rev: '1-a', bytes: 10 });
    const requests: (string | null)[] = [];
    const source: ChangesSource = {
      database: 'medic',
      async *page({ since }): AsyncGenerator<PageItem> {
        requests.push(since);
        yield { kind: 'row', row: row('a') };
        yield { kind: 'row', row: row('b') };
        yield { kind: 'end', lastSeq: 'L1', pending: null };
      },
      // eslint-disable-next-line require-yield
      async *follow(): AsyncGenerator<FollowItem> {
        throw new Error('not used');
      },
      info: async () => ({ docCount: 0, deletedCount: 0 }),
      close: () => undefined,
    };
    const batches: unknown[] = [];
    await assert.rejects(
      (async () => {
        for await (const b of catchUpBatches(
          source,
          null,
          { batchSize: 2, maxBatchBytes: 1 << 20 },
          new AbortController().signal,
        ))
          batches.push(b);
      })(),
      (e: unknown) =>
        e instanceof EngineError && e.code === 'COUCH_PROTOCOL' && /"medic".*same page again/.test(e.message),
    );
    assert.deepEqual(requests, [null, 'L1']);
    assert.equal(batches.length, 1, 'the repeated page is not written again');
  });

  it('Retry-After is read (seconds or a date) and the backoff waits at least that long', () => {
    assert.equal(retryAfterMs('7'), 7000);
    assert.equal(retryAfterMs(new Date(Date.now() + 30_000).toUTCString()) !== null, true);
    assert.equal(retryAfterMs(undefined), null);
    const error = { code: 'COUCH_SERVER' as const, message: 'busy', retryable: true, details: { retryAfterMs: 7000 } };
    assert.equal(backoffDelayMs(1, error, ONCE_POLICY), 7000);
    assert.equal(backoffDelayMs(1, { ...error, details: {} }, ONCE_POLICY), 250);
    assert.equal(
      backoffDelayMs(1, { ...error, details: { retryAfterMs: 3_600_000 } }, ONCE_POLICY),
      600_000,
      'at most 10 minutes',
    );
  });
});
