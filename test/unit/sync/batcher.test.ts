import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catchUpBatches, liveBatches, type Batch } from '../../../app/sync/batcher';
import type { ChangeRow, ChangesSource, FollowItem, PageItem } from '../../../app/sync/ports';

/** A scripted feed: `pages[since]` = rows and end; records every request. */
function fakeSource(
  pages: Map<string | null, { rows: ChangeRow[]; lastSeq: string; pending: number | null }>,
): ChangesSource & { requests: { since: string | null; limit: number }[] } {
  const requests: { since: string | null; limit: number }[] = [];
  return {
    database: 'medic',
    requests,
    async *page({ since, limit }): AsyncGenerator<PageItem> {
      requests.push({ since, limit });
      const page = pages.get(since);
      if (!page) throw new Error(`unexpected since ${since}`);
      for (const row of page.rows.slice(0, limit)) yield { kind: 'row', row };
      yield { kind: 'end', lastSeq: page.lastSeq, pending: page.pending };
    },
    // eslint-disable-next-line require-yield
    async *follow(): AsyncGenerator<FollowItem> {
      throw new Error('not used');
    },
    info: async () => ({ docCount: 0, deletedCount: 0 }),
    close: () => undefined,
  };
}

const row = (id: string, seq: string | null, bytes = 100): ChangeRow => ({
  id,
  seq,
  deleted: false,
  doc: { _id: id },
  rev: '1-a',
  bytes,
});

async function collect(gen: AsyncGenerator<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of gen) out.push(b);
  return out;
}

describe('catch-up batches', () => {
  it('one request per page until an empty page; each batch checkpoints last_seq', async () => {
    const src = fakeSource(
      new Map([
        [null, { rows: [row('a', 's1'), row('b', null)], lastSeq: 'L1', pending: null }],
        ['L1', { rows: [row('c', 's3')], lastSeq: 'L2', pending: null }],
        ['L2', { rows: [], lastSeq: 'L2', pending: null }],
      ]),
    );
    const batches = await collect(
      catchUpBatches(src, null, { batchSize: 2, maxBatchBytes: 1 << 20 }, new AbortController().signal),
    );
    assert.deepEqual(
      batches.map((b) => [b.rows.map((r) => r.id).join(''), b.seq, b.isEnd]),
      [
        ['ab', 'L1', false],
        ['c', 'L2', false],
        ['', 'L2', true],
      ],
    );
    assert.deepEqual(src.requests, [
      { since: null, limit: 2 },
      { since: 'L1', limit: 2 },
      { since: 'L2', limit: 2 },
    ]);
  });

  it('pending 0 ends the catch-up without another request', async () => {
    const src = fakeSource(new Map([[null, { rows: [row('a', 's1')], lastSeq: 'L1', pending: 0 }]]));
    const batches = await collect(
      catchUpBatches(src, null, { batchSize: 5, maxBatchBytes: 1 << 20 }, new AbortController().signal),
    );
    assert.equal(batches.length, 1);
    assert.equal(batches[0]?.isEnd, true);
    assert.equal(src.requests.length, 1);
  });

  it('cuts a page by bytes: inner batches carry the last non-null row seq, the tail forces last_seq; the next page asks for fewer rows', async () => {
    const rows = [
      row('a', 'S1', 400),
      row('b', null, 400),
      row('c', null, 400),
      row('d', null, 400),
      row('e', null, 400),
    ];
    const src = fakeSource(
      new Map([
        [null, { rows, lastSeq: 'L1', pending: 7 }],
        ['L1', { rows: [row('f', 'S6', 400)], lastSeq: 'L2', pending: 0 }],
      ]),
    );
    const batches = await collect(
      catchUpBatches(src, null, { batchSize: 10, maxBatchBytes: 800 }, new AbortController().signal),
    );
    assert.deepEqual(
      batches.map((b) => [b.rows.map((r) => r.id).join(''), b.seq, b.forceCheckpoint, b.pending]),
      [
        ['ab', 'S1', false, null],
        ['cd', 'S1', false, null],
        ['e', 'L1', true, 7],
        ['f', 'L2', false, 0],
      ],
    );
    assert.ok((src.requests[1]?.limit ?? 99) < 10, `second request limit ${src.requests[1]?.limit}`);
    for (const b of batches) assert.ok(b.bytes <= 800);
  });
});

describe('live batches', () => {
  it('flushes on count and after a quiet spell, checkpointing the last row seq', async () => {
    const items: (FollowItem | 'pause')[] = [
      { kind: 'row', row: row('a', '1') },
      { kind: 'row', row: row('b', '2') },
      { kind: 'row', row: row('c', '3') },
      'pause',
      { kind: 'heartbeat' },
      { kind: 'row', row: row('d', '4') },
      'pause',
    ];
    const controller = new AbortController();
    const src: ChangesSource = {
      database: 'medic',
      // eslint-disable-next-line require-yield
      async *page(): AsyncGenerator<PageItem> {
        throw new Error('not used');
      },
      async *follow({ signal }): AsyncGenerator<FollowItem> {
        for (const item of items) {
          if (item === 'pause') await new Promise((r) => setTimeout(r, 80));
          else yield item;
        }
        await new Promise((_r, reject) => {
          if (signal.aborted) reject(new Error('aborted'));
          signal.addEventListener('abort', () => reject(new Error('aborted')));
        });
      },
      info: async () => ({ docCount: 0, deletedCount: 0 }),
      close: () => undefined,
    };
    const seen: string[] = [];
    const gen = liveBatches(
      src,
      '0',
      { batchSize: 2, maxBatchBytes: 1 << 20, quietMs: 30, heartbeatMs: 1000 },
      controller.signal,
    );
    for await (const b of gen) {
      seen.push(`${b.rows.map((r) => r.id).join('')}@${b.seq}`);
      if (seen.length === 3) {
        controller.abort(); // the way to stop a live feed: abort first, then leave the loop
        break;
      }
    }
    assert.deepEqual(seen, ['ab@2', 'c@3', 'd@4']);
  });
});
