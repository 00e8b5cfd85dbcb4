/**
 * The yardstick for a field link: a plain client that pages a database's `_changes` feed
 * (`limit` = `seq_interval`, `include_docs`) asking for gzip, as couch2pg's HTTP client does,
 * decompresses and parses each page whole, and writes nothing. Reads the databases in parallel.
 * Written here for the tests and the bench; not product code.
 */
import http from 'node:http';
import zlib from 'node:zlib';

export interface GzipReadResult {
  docs: number;
  /** Body bytes received (compressed as sent). */
  wireBytes: number;
  seconds: number;
  requests: number;
}

export async function readWithGzip(o: {
  url: string;
  username?: string;
  password?: string;
  databases: string[];
  limit: number;
}): Promise<GzipReadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.databases.length + 1 });
  const headers: Record<string, string> = { accept: 'application/json', 'accept-encoding': 'gzip' };
  if (o.username)
    headers.authorization = `Basic ${Buffer.from(`${o.username}:${o.password ?? ''}`).toString('base64')}`;
  let wireBytes = 0;
  let requests = 0;
  const get = (path: string): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      requests++;
      const req = http.get(`${o.url}${path}`, { agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => {
          wireBytes += c.length;
          chunks.push(c);
        });
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode} for ${path}`));
          const raw = Buffer.concat(chunks);
          try {
            resolve(res.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(raw) : raw);
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        });
        res.on('error', reject);
      });
      req.on('error', reject);
    });
  const started = performance.now();
  try {
    const counts = await Promise.all(
      o.databases.map(async (db) => {
        let since: string | null = null;
        let docs = 0;
        for (;;) {
          const q = new URLSearchParams({
            limit: String(o.limit),
            seq_interval: String(o.limit),
            include_docs: 'true',
          });
          if (since !== null) q.set('since', since);
          const page = JSON.parse(
            (await get(`/${encodeURIComponent(db)}/_changes?${q.toString()}`)).toString('utf8'),
          ) as { results: unknown[]; last_seq: unknown };
          docs += page.results.length;
          since = typeof page.last_seq === 'string' ? page.last_seq : JSON.stringify(page.last_seq);
          if (page.results.length < o.limit) return docs;
        }
      }),
    );
    return {
      docs: counts.reduce((a, b) => a + b, 0),
      wireBytes,
      seconds: (performance.now() - started) / 1000,
      requests,
    };
  } finally {
    agent.destroy();
  }
}
