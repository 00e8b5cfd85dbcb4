/**
 * Field section of `npm run bench` (issue 8 §7): the sync through a field link — the shaping
 * proxy (test/support/shaping-proxy.ts: gzip level 6 for JSON as CHT's nginx, one shared link of
 * the given rate, latency before each response) in front of pouchdb-server seeded with generated
 * CHT documents — against a plain gzip reader of the same feed through the same link, in the
 * same run. Per link: the reader, the sync, and the sync with one connection cut mid-body.
 */
import path from 'node:path';
import { silentLogger } from '../../app/core/logger';
import { startDemoCouch } from '../../app/demo';
import { CHT_DATABASES } from '../../app/generator';
import { readWithGzip } from '../support/gzip-reader';
import { startShapingProxy } from '../support/shaping-proxy';
import type { BenchPostgres } from './pg-target';
import type { BenchSectionResult } from './report';
import { bundleChild, countRows, generatorFingerprint, runChild } from './sync-bench';

export interface LinkProfile {
  name: string;
  bytesPerSecond: number;
  latencyMs: number;
}

export const FIELD_LINKS: LinkProfile[] = [
  { name: '1 Mbit/s, 200 ms', bytesPerSecond: 1_000_000 / 8, latencyMs: 200 },
  { name: '128 kbit/s, 600 ms', bytesPerSecond: 128_000 / 8, latencyMs: 600 },
];

export interface FieldBenchOptions {
  docs: number;
  seed: number;
  batchSize: number;
  links: LinkProfile[];
  pg: BenchPostgres;
  log: (message: string) => void;
}

interface LinkRun {
  link: string;
  run: string;
  docs: number;
  seconds: number;
  wireBytes: number;
  requests: number;
  outcome: string;
}

export async function runFieldBench(o: FieldBenchOptions): Promise<BenchSectionResult> {
  const bundle = await bundleChild();
  const databases = [...CHT_DATABASES];
  const cacheDir = path.resolve('.cache/bench', `field-pouch-${o.seed}-${o.docs}-${generatorFingerprint(o.seed)}`);
  o.log(
    `field bench: pouchdb-server with ${o.docs.toLocaleString('en-US')} docs in ${path.relative(process.cwd(), cacheDir)} (seeded on first use)`,
  );
  const pouch = await startDemoCouch({ dataDir: cacheDir, docs: o.docs, seed: o.seed, logger: silentLogger });
  const runs: LinkRun[] = [];
  const checks: BenchSectionResult['checks'] = [];
  try {
    for (const [index, link] of o.links.entries()) {
      const proxy = await startShapingProxy(pouch.url, {
        bytesPerSecond: link.bytesPerSecond,
        latencyMs: link.latencyMs,
        gzipLevel: 6,
      });
      try {
        o.log(`field bench: ${link.name} · gzip reader`);
        const read = await readWithGzip({
          url: proxy.url,
          username: pouch.username,
          password: pouch.password,
          databases,
          limit: o.batchSize,
        });
        const reader: LinkRun = {
          link: link.name,
          run: 'plain gzip reader (pages of the batch size, parsed, no sink)',
          docs: read.docs,
          seconds: read.seconds,
          wireBytes: proxy.wireBytes,
          requests: proxy.requests.length,
          outcome: 'success',
        };
        runs.push(reader);
        o.log(`  → ${reader.seconds.toFixed(1)} s, ${(reader.wireBytes / reader.docs).toFixed(0)} bytes/doc`);

        const sync = async (run: string, schema: string, cut: boolean): Promise<LinkRun> => {
          proxy.reset();
          // one cut in the middle of a medic page after the first: the sync must resume within the same run
          if (cut) proxy.fault({ kind: 'cut', afterBytes: 20_000, match: /\/medic\/_changes\?.*since=/ });
          o.log(`field bench: ${link.name} · ${run}`);
          const r = await runChild(bundle, {
            mode: 'sync',
            couchUrl: proxy.url,
            username: pouch.username,
            password: pouch.password,
            databases,
            pgUrl: o.pg.url,
            schema,
            batchSize: o.batchSize,
            maxBatchBytes: 16 * 1024 * 1024,
          });
          const rows = await countRows(o.pg.url, `"${schema}".couchdb_all`);
          const m: LinkRun = {
            link: link.name,
            run,
            docs: rows,
            seconds: r.seconds,
            wireBytes: proxy.wireBytes,
            requests: proxy.requests.length,
            outcome: r.outcome,
          };
          runs.push(m);
          o.log(
            `  → ${m.seconds.toFixed(1)} s, ${(m.wireBytes / Math.max(1, m.docs)).toFixed(0)} bytes/doc, ${m.requests} requests, outcome ${m.outcome}`,
          );
          checks.push({
            name: `${link.name}, ${run}: every (database, _id) landed once`,
            pass: rows === read.docs && (r.outcome === 'done' || r.outcome === 'success'),
            detail: `${rows} rows for ${read.docs} feed rows, outcome ${r.outcome}`,
          });
          return m;
        };
        const clean = await sync('syncOnce → PostgreSQL', `field_${index}_sync`, false);
        const cut = await sync('syncOnce with one cut mid-body', `field_${index}_cut`, true);

        const bytesRatio = clean.wireBytes / reader.wireBytes;
        const timeRatio = clean.seconds / reader.seconds;
        checks.push({
          name: `${link.name}: bytes on the wire ≤ 1.2 × the gzip reader's`,
          pass: bytesRatio <= 1.2,
          detail: `${bytesRatio.toFixed(2)} (${(clean.wireBytes / clean.docs).toFixed(0)} vs ${(reader.wireBytes / reader.docs).toFixed(0)} bytes/doc)`,
        });
        checks.push({
          name: `${link.name}: time ≤ 1.3 × the gzip reader's`,
          pass: timeRatio <= 1.3,
          detail: `${timeRatio.toFixed(2)} (${clean.seconds.toFixed(1)} s vs ${reader.seconds.toFixed(1)} s)`,
        });
        // The cut's recovery: the first backoff (0.25 s), a new connection and request (latency), and the
        // cut page's 20,000 bytes sent again at that database's share of the link (four databases share it).
        const allowance = 0.25 + (3 * link.latencyMs) / 1000 + (20_000 * databases.length) / link.bytesPerSecond;
        checks.push({
          name: `${link.name}, one cut: time ≤ 1.3 × the reader's + the cut's recovery`,
          pass: cut.seconds <= 1.3 * reader.seconds + allowance,
          detail: `${cut.seconds.toFixed(1)} s ≤ ${(1.3 * reader.seconds).toFixed(1)} + ${allowance.toFixed(1)} s (recovery took ${(cut.seconds - clean.seconds).toFixed(1)} s over the clean run)`,
        });
        checks.push({
          name: `${link.name}, one cut: bytes ≤ 1.2 × the reader's + the cut response`,
          pass: cut.wireBytes <= 1.2 * reader.wireBytes + 20_000,
          detail: `${(cut.wireBytes / reader.wireBytes).toFixed(2)} × the reader's`,
        });
      } finally {
        await proxy.close();
      }
    }
  } finally {
    await pouch.stop();
  }

  return {
    section: 'field',
    tables: [
      {
        title: `Field links: ${o.docs.toLocaleString('en-US')} generated CHT docs from pouchdb-server behind a shaping proxy (gzip level 6 for JSON, as CHT's nginx), batch ${o.batchSize}`,
        columns: [
          'link',
          'run',
          'docs',
          'seconds',
          'bytes/doc on the wire',
          'KB on the wire',
          'requests',
          '× reader time',
          '× reader bytes',
        ],
        rows: runs.map((r) => {
          const reader = runs.find((x) => x.link === r.link && x.run.startsWith('plain gzip reader'));
          const isReader = r === reader;
          return [
            r.link,
            r.run,
            r.docs,
            r.seconds,
            r.wireBytes / Math.max(1, r.docs),
            r.wireBytes / 1024,
            r.requests,
            !isReader && reader ? r.seconds / reader.seconds : null,
            !isReader && reader ? r.wireBytes / reader.wireBytes : null,
          ];
        }),
        notes: [
          'One shared link per profile: every response of every database waits for its slot at that rate; each response starts after the latency.',
          "The reader pages each database with `limit` = `seq_interval` = the batch size asking for gzip (as couch2pg's HTTP client does), the four databases in parallel, and writes nothing. The sync writes to PostgreSQL.",
          'The cut closes the connection 20,000 bytes into a medic page after the first; the sync resumes from its last committed batch in the same run.',
          'Bytes are body bytes on the wire (after compression), counted by the proxy.',
        ],
      },
    ],
    checks,
    data: { runs, docs: o.docs, seed: o.seed, links: o.links },
  };
}
