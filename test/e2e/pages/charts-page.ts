import type { Locator, Page } from 'playwright-core';

export class ChartsPage {
  constructor(readonly page: Page) {}

  async open(): Promise<void> {
    await this.page
      .getByRole('navigation', { name: /^(Main|Principal)$/ })
      .getByRole('link', { name: /^(Charts|Graphiques)$/ })
      .click();
    await this.page.getByRole('heading', { level: 1, name: /^(Charts|Graphiques)$/ }).waitFor();
  }

  chart(name: 'reports-per-form-week' | 'contacts-per-week' | 'sync-throughput'): Locator {
    return this.page.locator(`section[data-chart="${name}"]`);
  }
}
