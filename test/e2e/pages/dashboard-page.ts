import type { Locator, Page } from 'playwright-core';

export class DashboardPage {
  constructor(readonly page: Page) {}

  async open(): Promise<void> {
    await this.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }).click();
    await this.page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  }

  row(database: string): Locator {
    return this.page.locator(`tr[data-database="${database}"]`);
  }

  stateOf(database: string): Locator {
    return this.row(database).locator('.badge').first();
  }

  currentAsOf(): Locator {
    return this.page.getByTestId('current-as-of');
  }

  async syncNow(): Promise<void> {
    await this.page.getByRole('button', { name: 'Sync now' }).click();
  }

  async runTransforms(): Promise<void> {
    await this.page.getByRole('button', { name: 'Run transforms now' }).click();
  }

  outcomes(): Locator {
    return this.page.getByTestId('outcome');
  }

  /** The outcome notice whose title starts with `title` (sync and transform notices can both be shown). */
  outcome(title: string | RegExp): Locator {
    return this.outcomes().filter({ has: this.page.locator('.notice-title', { hasText: title }) });
  }

  async dismissOutcomes(): Promise<void> {
    for (const button of await this.page.getByRole('button', { name: 'Dismiss' }).all()) await button.click();
  }
}
