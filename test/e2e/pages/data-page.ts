import { readFileSync } from 'node:fs';
import type { Locator, Page } from 'playwright-core';

export class DataPage {
  constructor(readonly page: Page) {}

  async open(): Promise<void> {
    await this.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Data' }).click();
    await this.page.getByRole('heading', { level: 1, name: 'Data' }).waitFor();
  }

  tableButtons(): Locator {
    return this.page.getByTestId('table-list').getByRole('button');
  }

  async selectTable(qualified: string): Promise<void> {
    await this.page.locator(`button[data-table="${qualified}"]`).click();
    await this.page.getByTestId('preview-table').waitFor();
  }

  range(): Locator {
    return this.page.getByTestId('preview-range');
  }

  previewRows(): Locator {
    return this.page.getByTestId('preview-table').locator('tbody tr');
  }

  previewHeaders(): Locator {
    return this.page.getByTestId('preview-table').locator('thead th');
  }

  async filter(column: string, op: 'contains' | 'equals' | 'greater than' | 'less than', value: string): Promise<void> {
    await this.page.getByLabel('Column', { exact: true }).selectOption(column);
    await this.page.getByLabel('Condition', { exact: true }).selectOption({ label: op });
    await this.page.getByLabel('Value', { exact: true }).fill(value);
    await this.page.getByRole('button', { name: 'Apply filter' }).click();
  }

  /** Click an export button and return the downloaded file's name and text. */
  async export(button: 'Export table (CSV)' | 'Export filtered rows (CSV)'): Promise<{ name: string; text: string }> {
    const [download] = await Promise.all([
      this.page.waitForEvent('download'),
      this.page.getByRole('button', { name: button }).click(),
    ]);
    const file = await download.path();
    return { name: download.suggestedFilename(), text: readFileSync(file, 'utf8') };
  }

  connection(): Locator {
    return this.page
      .locator('section.card')
      .filter({ has: this.page.getByRole('heading', { name: 'Connect other tools' }) });
  }
}
