import type { Locator, Page } from 'playwright-core';

export class HistoryPage {
  constructor(readonly page: Page) {}

  async open(): Promise<void> {
    await this.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Run history' }).click();
    await this.page.getByRole('heading', { level: 1, name: 'Run history' }).waitFor();
  }

  rows(): Locator {
    return this.page.getByTestId('runs-table').locator('tbody tr');
  }

  async filterKind(kind: 'All' | 'Sync' | 'Transform' | 'Check'): Promise<void> {
    await this.page.getByLabel('Kind').selectOption({ label: kind });
  }

  async filterOutcome(outcome: string): Promise<void> {
    await this.page.getByLabel('Outcome').selectOption({ label: outcome });
  }

  async openRun(id: number): Promise<void> {
    await this.page.getByRole('link', { name: `Open run ${id}` }).click();
    await this.page.getByRole('heading', { level: 1, name: new RegExp(`^Run #${id}`) }).waitFor();
  }

  async copyDiagnostics(): Promise<string> {
    await this.page.getByRole('button', { name: 'Copy diagnostics' }).click();
    await this.page.getByRole('status').filter({ hasText: 'Diagnostics copied' }).waitFor();
    // A string expression: the test code is compiled without DOM types.
    return this.page.evaluate<string>('navigator.clipboard.readText()');
  }

  section(name: string): Locator {
    return this.page.locator('section.card').filter({ has: this.page.getByRole('heading', { level: 2, name }) });
  }
}
