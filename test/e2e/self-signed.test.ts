/**
 * A CHT server with a self-signed certificate, as many district servers have: the wizard says
 * so and shows the certificate's fingerprint, the user trusts it, and the first sync goes
 * through a connection pinned to that certificate. Settings can forget it again.
 * Everything real: pouchdb-server behind an HTTPS proxy with an openssl certificate, the test
 * PostgreSQL, the HTTP host, Chromium.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { screenshot, startAppUnderTest, type AppUnderTest } from './support/app-under-test';
import { SettingsPage } from './pages/settings-page';
import { WizardPage } from './pages/wizard-page';

let app: AppUnderTest;
let proxy: https.Server;
let tlsUrl: string;
let fingerprint: string;
let certDir: string;

before(async () => {
  app = await startAppUnderTest({ docs: 300 });
  certDir = mkdtempSync(path.join(tmpdir(), 'cht-e2e-tls-'));
  const keyFile = path.join(certDir, 'key.pem');
  const certFile = path.join(certDir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const cert = readFileSync(certFile);
  fingerprint = new X509Certificate(cert).fingerprint256;
  proxy = https.createServer({ key: readFileSync(keyFile), cert }, (req, res) => {
    const upstream = http.request(`${app.couch.url}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  proxy.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  tlsUrl = `https://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

after(async () => {
  proxy?.closeAllConnections();
  await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(undefined)));
  await app?.stop();
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

test('the wizard offers to trust a self-signed certificate, and the first sync goes through it', async () => {
  const { page } = app;
  const wizard = new WizardPage(page);
  await page.goto(app.host.urlWithToken);
  await wizard.heading().filter({ hasText: 'Connect to CHT' }).waitFor();
  await wizard.fillConnection({ url: tlsUrl, username: app.couch.username, password: app.couch.password });
  await wizard.testConnection();
  const offer = page.getByRole('group', { name: 'This server’s certificate is self-signed' });
  assert.match(await offer.innerText(), new RegExp(fingerprint), 'the fingerprint to compare is shown');
  assert.equal(await wizard.failure().count(), 0, 'no generic TLS error besides the offer');
  assert.equal(await page.getByRole('button', { name: 'Next', exact: true }).isDisabled(), true);
  await screenshot(page, 'tls-01-self-signed');

  await offer.getByRole('button', { name: 'Trust this certificate' }).click();
  await wizard.connectedNotice().waitFor();
  assert.match(
    await wizard.connectedNotice().innerText(),
    new RegExp(`Trusted self-signed certificate: ${fingerprint}`),
  );
  await screenshot(page, 'tls-02-trusted');

  await wizard.next();
  await wizard.heading().filter({ hasText: 'Choose databases' }).waitFor();
  // the estimate asks the server too: through the trusted connection
  await wizard.estimate().getByText('Disk space needed').waitFor();
  await wizard.next();
  await wizard.heading().filter({ hasText: 'District' }).waitFor();
  await wizard.next();
  await wizard.heading().filter({ hasText: 'Analytics database' }).waitFor();
  await wizard.useExistingPostgres(app.postgres);
  await wizard.postgresOk().waitFor();
  await wizard.next();
  await wizard.heading().filter({ hasText: 'Transform models' }).waitFor();
  await wizard.next();
  await wizard.heading().filter({ hasText: 'Schedule' }).waitFor();
  await page.getByRole('radio', { name: /Only when I press/ }).check();
  await wizard.next();
  await wizard.heading().filter({ hasText: 'Review and finish' }).waitFor();
  await wizard.finish();

  await wizard.heading().filter({ hasText: 'First sync' }).waitFor();
  await wizard.outcome().waitFor({ timeout: 120_000 });
  assert.match(await wizard.outcome().innerText(), /Sync finished/);
  const client = new pg.Client({ connectionString: app.postgres.url });
  await client.connect();
  try {
    const medic = await client.query<{ n: string }>(
      "select count(*) as n from v1.couchdb_all where source = '127.0.0.1/medic'",
    );
    const auth = `Basic ${Buffer.from(`${app.couch.username}:${app.couch.password}`).toString('base64')}`;
    const feed = (await (
      await fetch(`${app.couch.server.url}/medic/_changes`, { headers: { authorization: auth } })
    ).json()) as { results: { id: string }[] };
    assert.equal(
      Number(medic.rows[0]?.n),
      new Set(feed.results.map((r) => r.id)).size,
      'every medic document came through the pinned connection',
    );
  } finally {
    await client.end();
  }

  await wizard.openDashboard();
  const settings = new SettingsPage(page);
  await settings.open();
  const trustedLine = page.getByText(`Trusted self-signed certificate: ${fingerprint}`);
  await trustedLine.waitFor();
  await screenshot(page, 'tls-03-settings');
  await page.getByRole('button', { name: 'Forget this certificate' }).click();
  await trustedLine.waitFor({ state: 'detached' });
});
