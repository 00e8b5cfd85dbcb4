/**
 * The wizard's first-sync estimate from the link itself: one feed page with documents, asked with
 * gzip as the sync asks, timed (request → first byte = latency; first byte → last = transfer), then
 * extrapolated to the databases' document counts. A page of 200 documents is ~30 KB compressed:
 * a few seconds on a 64 kbit/s link, a blink on a LAN.
 */
import { performance } from 'node:perf_hooks';
import { createCouchClient, type CouchConnection } from '../couch/couch-client';
import { classifyCouchError } from '../couch/couch-errors';

export interface LinkProbe {
  docs: number;
  /** Body bytes on the wire (compressed when the server compresses). */
  wireBytes: number;
  latencyMs: number;
  transferMs: number;
  /** Whether the server compressed the page. */
  isCompressed: boolean;
}

/** Documents per second this machine writes when the link is not the limit (measured locally: 4,000–20,000; kept low). */
const LOCAL_DOCS_PER_SECOND = 3000;
/** Documents per request once the sync has sized its requests for the link (field's batcher aims at ~5 s per request). */
const DOCS_PER_REQUEST = 1000;

export async function probeLink(
  conn: CouchConnection,
  database: string,
  o: { limit?: number; timeoutMs?: number } = {},
): Promise<LinkProbe> {
  const client = createCouchClient(conn, { timeoutMs: o.timeoutMs ?? 30_000, maxSockets: 1 });
  const signal = AbortSignal.timeout(o.timeoutMs ?? 60_000);
  try {
    const t0 = performance.now();
    const res = await client.stream(
      `/${encodeURIComponent(database)}/_changes?include_docs=true&limit=${o.limit ?? 200}`,
      { signal, idleTimeoutMs: o.timeoutMs ?? 30_000, encoding: 'gzip' },
    );
    const tFirst = performance.now();
    let wireBytes = 0;
    const parts: Buffer[] = [];
    for await (const chunk of res as AsyncIterable<Buffer>) {
      wireBytes += chunk.length;
      parts.push(chunk);
    }
    const t1 = performance.now();
    const encoding = String(res.headers['content-encoding'] ?? '');
    const zlib = await import('node:zlib');
    const raw = Buffer.concat(parts);
    const text =
      encoding === 'gzip'
        ? zlib.gunzipSync(raw).toString('utf8')
        : encoding === 'deflate'
          ? zlib.inflateSync(raw).toString('utf8')
          : raw.toString('utf8');
    const body = JSON.parse(text) as { results?: unknown[] };
    return {
      docs: body.results?.length ?? 0,
      wireBytes,
      latencyMs: tFirst - t0,
      transferMs: t1 - tFirst,
      isCompressed: encoding === 'gzip' || encoding === 'deflate',
    };
  } catch (error) {
    throw signal.aborted
      ? classifyCouchError(new Error('the link probe timed out'), database, conn.url)
      : classifyCouchError(error, database, conn.url);
  } finally {
    client.close();
  }
}

/** Seconds for a first sync of `totalDocs` on the probed link: transfer at the measured rate, a latency per request, never faster than this machine writes. */
export function estimateSeconds(probe: LinkProbe, totalDocs: number): number {
  if (totalDocs <= 0) return 0;
  if (probe.docs === 0) return Math.ceil(totalDocs / LOCAL_DOCS_PER_SECOND);
  const bytesPerDoc = probe.wireBytes / probe.docs;
  // A tiny page on a fast link streams in under a millisecond: the rate is then not measurable, and the machine is the limit.
  const linkBytesPerSecond = probe.wireBytes / Math.max(probe.transferMs / 1000, 0.005);
  const linkDocsPerSecond = linkBytesPerSecond / bytesPerDoc;
  const transfer = totalDocs / Math.min(linkDocsPerSecond, LOCAL_DOCS_PER_SECOND);
  const requests = Math.ceil(totalDocs / DOCS_PER_REQUEST);
  return Math.ceil(transfer + (requests * probe.latencyMs) / 1000);
}
