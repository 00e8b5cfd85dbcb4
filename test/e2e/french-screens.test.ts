/**
 * A French-speaking data manager reads French where the engine speaks English:
 *  - before the first transforms, the charts screen says why each chart is empty (the engine sends
 *    a reason code and its values, `no-table`, `no-sync-runs`; the words are the catalogue's);
 *  - a run whose model PostgreSQL refused, whose child was skipped and whose test failed: our
 *    sentences in French, PostgreSQL's own message as PostgreSQL wrote it.
 * Everything real: pouchdb-server (nothing synced), a fresh database on the test PostgreSQL, a
 * small transform project in a temporary folder, the HTTP host, Chromium.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createInProcessClient } from '../../app/host/in-process-client';
import { ChartsPage } from './pages/charts-page';
import { SettingsPage } from './pages/settings-page';
import { screenshot, startAppUnderTest, type AppUnderTest } from './support/app-under-test';

let app: AppUnderTest;
let project: string;

/** A model PostgreSQL refuses, a model built from it (skipped), a model that builds and a test on it that fails. */
function writeProject(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cht-e2e-project-'));
  mkdirSync(path.join(dir, 'models'));
  const files: Record<string, string> = {
    'dbt_project.yml': "name: 'fr_check'\nversion: '1.0.0'\nconfig-version: 2\nprofile: 'default'\n",
    'models/broken.sql': 'select id from no_such_table_here',
    'models/after_broken.sql': "select * from {{ ref('broken') }}",
    'models/doubled.sql': 'select 1 as id union all select 1 union all select 2',
    'models/schema.yml':
      'version: 2\nmodels:\n  - name: doubled\n    columns:\n      - name: id\n        tests:\n          - unique\n',
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

before(async () => {
  project = writeProject();
  app = await startAppUnderTest({ docs: 20 });
});
after(async () => {
  await app?.stop();
  rmSync(project, { recursive: true, force: true });
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
    pipeline: { kind: 'folder', path: project },
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

test('a run with a model PostgreSQL refused, a skipped model and a failed test reads in French', async () => {
  // What `cht-sync dbt build` asks of the engine: models and their tests, in the run history.
  const result = await app.engine.transformNow({
    trigger: 'cli',
    dbt: { resourceTypes: ['model', 'test'], build: true },
  });
  const byName = new Map(result.models.map((m) => [m.model, m]));
  assert.equal(byName.get('broken')?.status, 'error', JSON.stringify(result.models));
  assert.equal(byName.get('after_broken')?.status, 'skipped');
  assert.equal(byName.get('doubled')?.status, 'success');
  const unique = result.models.find((m) => m.resourceType === 'test');
  assert.equal(unique?.status, 'fail', JSON.stringify(result.models));

  const { page } = app;
  await page.evaluate(`location.hash = '#/history/${result.runId}'`);
  await page.getByRole('heading', { level: 1, name: new RegExp(`^Exécution n° ${result.runId}`) }).waitFor();
  const models = page.locator('section.card').filter({ has: page.getByRole('heading', { level: 2, name: 'Modèles' }) });
  const row = (name: string) => models.locator('tbody tr').filter({ has: page.locator('th code', { hasText: name }) });
  await models.waitFor();

  // The run's error names what failed (a model), not a project that could not be loaded.
  const notice = await page.getByTestId('error-notice').innerText();
  assert.match(notice, /Un modèle de transformation a échoué/);
  assert.match(notice, /Le tableau « Modèles » ci-dessous/);
  assert.doesNotMatch(notice, /n’a pas pu être chargé|Tester la connexion/);
  const broken = await row('broken').first().innerText();
  assert.match(broken, /Échec/);
  assert.match(broken, /PostgreSQL a refusé le SQL de ce modèle\./);
  // PostgreSQL's words stay as PostgreSQL wrote them (in its own language: here the server's).
  const pgMessage = await row('broken').first().locator('code.evidence').first().innerText();
  assert.match(pgMessage, /no_such_table_here/);
  assert.match(broken, /Message de PostgreSQL :/);
  assert.match(await row('after_broken').innerText(), /Ignoré car broken a échoué\./);
  const test = await models.locator('tbody tr').filter({ hasText: 'Test échoué' }).innerText();
  assert.match(test, /Vérifie que doubled\.id n’a pas de doublons\./);
  assert.match(test, /1 ligne en échec\./);
  assert.match(test, /Le test échoue quand le nombre de lignes en échec est != 0\./);

  // None of the engine's English framing is on the screen: only PostgreSQL's message may be English.
  const main = (await page.locator('main').innerText()).replace(pgMessage, '');
  assert.doesNotMatch(
    main,
    /failed in PostgreSQL|skipped because|failing rows?|Checks that|configured to fail|Got \d/i,
  );
  await screenshot(page, 'run-detail-fr');
});
