/**
 * The dashboard through a slow field link (issue 8 §6): pouchdb-server behind the shaping proxy
 * (gzip 6 as CHT's nginx, 24 KB/s, 200 ms per response) and a cut in the middle of a response.
 * While the first batch is still arriving, the state shows rows arriving and a time left; the
 * cut is ridden out without a click; no database ever reads "Offline". Kept to seconds.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { createInProcessClient } from '../../app/host/in-process-client';
import { adminHeaders } from '../support/pouchdb-server';
import { startShapingProxy, type ShapingProxy } from '../support/shaping-proxy';
import { DashboardPage } from './pages/dashboard-page';
import { screenshot, startAppUnderTest, type AppUnderTest } from './support/app-under-test';

let app: AppUnderTest;
let link: ShapingProxy;

before(async () => {
  app = await startAppUnderTest({ docs: 1200, seed: 3 });
  link = await startShapingProxy(app.couch.server.url, { bytesPerSecond: 24_000, latencyMs: 200, gzipLevel: 6 });
});
after(async () => {
  await link?.close();
  await app?.stop();
});

test('through a 24 KB/s gzip link with a cut: progress within the batch, time left, no false "Offline", recovery without a click', async () => {
  const client = createInProcessClient(app.engine);
  await client.invoke('setup.complete', {
    couch: { url: link.url, username: app.couch.username, password: app.couch.password, databases: ['medic'] },
    postgres: {
      kind: 'external',
      host: app.postgres.host,
      port: app.postgres.port,
      database: app.postgres.database,
      username: app.postgres.username,
      password: app.postgres.password,
    },
    schedule: { kind: 'manual' },
    advanced: { transformAfterSync: false },
  });
  // The second feed response is cut after 30 KB on the wire: the sync must resume by itself.
  link.fault({ kind: 'cut', afterBytes: 30_000, match: /_changes.*since=/ });

  const { page } = app;
  await page.goto(app.host.urlWithToken);
  const dash = new DashboardPage(page);
  await dash.row('medic').waitFor();
  await dash.syncNow();

  const seen = new Set<string>();
  const details: string[] = [];
  let timeLeft = false;
  const deadline = Date.now() + 90_000;
  const finished = dash.outcome('Sync finished');
  while (Date.now() < deadline && !(await finished.isVisible())) {
    const row = dash.row('medic');
    seen.add(
      (
        await dash
          .stateOf('medic')
          .innerText()
          .catch(() => '')
      ).trim(),
    );
    const detail = (
      await row
        .locator('.cell-detail')
        .first()
        .innerText()
        .catch(() => '')
    ).trim();
    if (detail) details.push(detail);
    const left = (
      await row
        .getByTestId('time-left')
        .innerText()
        .catch(() => '—')
    ).trim();
    if (left !== '—' && left !== '') timeLeft = true;
    await page.waitForTimeout(150);
  }
  await finished.waitFor({ timeout: 5_000 });
  await screenshot(page, 'slow-link-finished');

  const arriving = details.filter((d) => /arriving \(([\d.,]+ \w+) received\)/.test(d));
  assert.ok(
    new Set(arriving).size >= 2,
    `the state moved within a batch (rows arriving, bytes received): ${[...new Set(details)].slice(0, 6).join(' | ')}`,
  );
  assert.ok(timeLeft, 'a time left was shown while catching up');
  assert.ok(!seen.has('Offline'), `never "Offline" while catching up on a slow link: ${[...seen].join(', ')}`);
  assert.ok(
    link.requests.some((r) => r.contentEncoding === 'gzip'),
    'the feed came compressed',
  );
  assert.ok(
    link.requests.some((r) => /_changes/.test(r.url) && r.wireBytes >= 30_000 && r.wireBytes < 31_000),
    'a feed response was cut at 30 KB',
  );

  // Recovery without a click: the cut response was retried, and every document is in PostgreSQL once.
  const db = new pg.Client({ connectionString: app.postgres.url });
  await db.connect();
  try {
    const rows = Number(
      (await db.query<{ n: string }>(`select count(*) as n from v1.couchdb_all where source like '%/medic'`)).rows[0]
        ?.n,
    );
    // One row per document the feed holds (live and deleted), read straight from the server, not through the link.
    const feed = (await (
      await fetch(`${app.couch.server.url}/medic/_changes`, { headers: adminHeaders() })
    ).json()) as { results: unknown[] };
    assert.equal(rows, feed.results.length);
  } finally {
    await db.end();
  }
});
