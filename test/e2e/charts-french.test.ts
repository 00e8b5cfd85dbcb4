/**
 * A French-speaking data manager before the first transforms: the charts screen says why each
 * chart is empty in French. The engine sends a reason code and its values (`no-table`,
 * `no-sync-runs`); the words are the catalogue's. Everything real: pouchdb-server (nothing synced),
 * a fresh database on the test PostgreSQL with no analytics tables, the HTTP host, Chromium.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createInProcessClient } from '../../app/host/in-process-client';
import { ChartsPage } from './pages/charts-page';
import { SettingsPage } from './pages/settings-page';
import { screenshot, startAppUnderTest, type AppUnderTest } from './support/app-under-test';

let app: AppUnderTest;

before(async () => {
  app = await startAppUnderTest({ docs: 20 });
});
after(async () => {
  await app?.stop();
});

test('with no analytics tables, the charts screen gives the reasons in French', async () => {
  const client = createInProcessClient(app.engine);
  await client.invoke('setup.complete', {
    couch: { url: app.couch.url, username: app.couch.username, password: app.couch.password, databases: ['medic'] },
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
  // What the API says: a code and its values, no sentence in any language.
  const reports = await client.invoke('data.chart', { chart: 'reports-per-form-week' });
  assert.deepEqual(reports.emptyReason, { code: 'no-table', table: 'data_record' });

  const { page } = app;
  await page.goto(app.host.urlWithToken);
  const settings = new SettingsPage(page);
  await settings.open();
  await settings.setLanguage('Français');
  await page.getByRole('navigation').getByRole('link', { name: 'Graphiques' }).waitFor();

  const charts = new ChartsPage(page);
  await charts.open();
  const reason = (name: Parameters<ChartsPage['chart']>[0]) => charts.chart(name).locator('.empty-chart');
  await reason('reports-per-form-week').waitFor();
  assert.equal(
    (await reason('reports-per-form-week').innerText()).trim(),
    'La table data_record n’existe pas encore : sur le tableau de bord, cliquez sur « Lancer les transformations » pour construire les tables d’analyse.',
  );
  assert.equal(
    (await reason('contacts-per-week').innerText()).trim(),
    'La table contact n’existe pas encore : sur le tableau de bord, cliquez sur « Lancer les transformations » pour construire les tables d’analyse.',
  );
  assert.equal(
    (await reason('sync-throughput').innerText()).trim(),
    'Aucune synchronisation n’a copié de documents au cours des 30 derniers jours.',
  );
  // Nothing of the engine's English reaches the screen.
  const main = await page.locator('main').innerText();
  assert.doesNotMatch(main, /No (report|contact)|run transforms|finish the setup|No sync run/i);
  await screenshot(page, 'charts-empty-fr');
});
