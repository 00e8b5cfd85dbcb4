/**
 * The newcomer's path: no CHT server, no PostgreSQL. "Try it with demo data" starts the
 * demo instance and the built-in database, and the first sync runs to the end.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { screenshot, startBareApp, type BareApp } from './support/app-under-test';
import { DashboardPage } from './pages/dashboard-page';
import { WizardPage } from './pages/wizard-page';

let app: BareApp;
before(async () => {
  app = await startBareApp();
});
after(async () => {
  await app?.stop();
});

test('"Try it with demo data" completes setup and syncs the demo instance', async () => {
  const { page } = app;
  const wizard = new WizardPage(page);
  await page.goto(app.host.urlWithToken);
  await wizard.heading().filter({ hasText: 'Connect to CHT' }).waitFor();
  await page.getByRole('button', { name: 'Try it with demo data' }).click();
  await wizard.heading().filter({ hasText: 'First sync' }).waitFor({ timeout: 120_000 });
  const outcome = wizard.outcome();
  await outcome.waitFor({ timeout: 180_000 });
  await screenshot(page, 'demo-01-first-sync');
  assert.match(await outcome.innerText(), /Sync finished/);
  const copied = Number(/([\d,]+) documents copied/.exec(await outcome.innerText())?.[1]?.replace(/,/g, ''));
  assert.ok(copied > 100, `the demo instance has data (${copied} documents copied)`);

  await wizard.openDashboard();
  const dash = new DashboardPage(page);
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  await page.getByText('Demo data', { exact: true }).waitFor();
  await dash.row('medic').waitFor();
  assert.match(await dash.stateOf('medic').innerText(), /Synced/);
  await screenshot(page, 'demo-02-dashboard');
});
