import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { silentLogger } from '../../../app/core/logger';
import { generateChtDocs } from '../../../app/generator/generate-cht-docs';
import { seedCouch } from '../../../app/generator/seed-couch';
import { estimateSeconds, probeLink } from '../../../app/preflight/probe-link';
import { syncOnce } from '../../../app/engine/sync-wiring';
import { createTestDatabase } from '../../support/postgres';
import { startPouchServer, TEST_ADMIN, type PouchServer } from '../../support/pouchdb-server';
import { startShapingProxy, type ShapingProxy } from '../../support/shaping-proxy';
import { memoryCheckpoints, newPool } from '../sync/helpers';

describe('the first-sync estimate comes from a measured probe of the link', () => {
  let server: PouchServer;
  let link: ShapingProxy;
  let pgDb: { url: string; drop(): Promise<void> };
  let pool: pg.Pool;
  let total = 0;

  before(async () => {
    server = await startPouchServer();
    const docs = [...generateChtDocs({ seed: 5, docs: 2500 })].filter((d) => d.database === 'medic');
    total = docs.length;
    await seedCouch(server.url, TEST_ADMIN, docs);
    link = await startShapingProxy(server.url, { bytesPerSecond: 32_000, latencyMs: 200, gzipLevel: 6 });
    pgDb = await createTestDatabase('probe');
    pool = newPool(pgDb.url);
  });
  after(async () => {
    await pool?.end();
    await pgDb?.drop();
    await link?.close();
    await server?.stop();
  });

  it('one gzip page timed through a 256 kbit/s, 200 ms link predicts the real first sync within a factor of two', async () => {
    const probe = await probeLink({ url: link.url, ...TEST_ADMIN }, 'medic');
    assert.equal(probe.docs, 200);
    assert.ok(probe.isCompressed, 'the probe asks for gzip as the sync does');
    assert.ok(probe.latencyMs >= 180, `latency measured: ${probe.latencyMs} ms`);
    const estimate = estimateSeconds(probe, total);

    const started = Date.now();
    const result = await syncOnce({
      couch: { url: link.url, ...TEST_ADMIN },
      databases: ['medic'],
      pool,
      schema: 'v1',
      table: 'couchdb',
      batchSize: 1000,
      maxBatchBytes: 1 << 24,
      checkpoints: memoryCheckpoints(),
      logger: silentLogger,
    });
    const actual = (Date.now() - started) / 1000;
    assert.equal(result.outcome, 'done');
    console.log(
      `probe: ${probe.wireBytes} B for ${probe.docs} docs in ${Math.round(probe.transferMs)} ms + ${Math.round(probe.latencyMs)} ms; estimate ${estimate} s, actual ${actual.toFixed(1)} s for ${total} docs`,
    );
    assert.ok(
      estimate >= actual / 2 && estimate <= actual * 2,
      `estimate ${estimate} s vs actual ${actual.toFixed(1)} s`,
    );
  });

  it('a LAN-fast page does not promise more than this machine writes', () => {
    assert.equal(
      estimateSeconds({ docs: 200, wireBytes: 30_000, latencyMs: 1, transferMs: 0.2, isCompressed: true }, 30_000),
      10 + Math.ceil((30 * 1) / 1000),
    );
  });
});
