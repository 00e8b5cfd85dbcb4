import type { Locator, Page } from 'playwright-core';

/** The first-run setup wizard, driven through its labels and roles (as a screen reader would). */
export class WizardPage {
  constructor(readonly page: Page) {}

  heading(): Locator {
    return this.page.getByRole('heading', { level: 1 });
  }

  async fillConnection(c: { url: string; username: string; password: string }): Promise<void> {
    await this.page.getByLabel('CHT instance address').fill(c.url);
    await this.page.getByLabel('Username').fill(c.username);
    await this.page.getByLabel('Password', { exact: true }).fill(c.password);
  }

  async testConnection(): Promise<void> {
    await this.page.getByRole('button', { name: 'Test connection' }).click();
  }

  connectedNotice(): Locator {
    return this.page.getByRole('status').filter({ hasText: 'Connected' });
  }

  failure(): Locator {
    return this.page.getByRole('alert');
  }

  async next(): Promise<void> {
    await this.page.getByRole('button', { name: 'Next', exact: true }).click();
  }

  databaseCheckbox(name: string): Locator {
    // The label is "<name>" plus an optional "usual" tag.
    return this.page.getByRole('checkbox', { name: new RegExp(`^${name.replace(/[-_]/g, '\\$&')}( usual)?$`) });
  }

  estimate(): Locator {
    return this.page.locator('.estimate');
  }

  async useExistingPostgres(p: {
    host: string;
    port: number;
    database: string;
    username: string;
    password: string;
  }): Promise<void> {
    await this.page.getByRole('radio', { name: /An existing PostgreSQL server/ }).check();
    await this.page.getByLabel('Host').fill(p.host);
    await this.page.getByLabel('Port').fill(String(p.port));
    await this.page.getByLabel('Database', { exact: true }).fill(p.database);
    await this.page.getByLabel('User', { exact: true }).fill(p.username);
    await this.page.getByLabel('Password', { exact: true }).fill(p.password);
    await this.page.getByRole('button', { name: 'Test database connection' }).click();
  }

  postgresOk(): Locator {
    return this.page.getByRole('status').filter({ hasText: 'Connected to PostgreSQL' });
  }

  async finish(): Promise<void> {
    await this.page.getByRole('button', { name: 'Finish and start the first sync' }).click();
  }

  outcome(): Locator {
    return this.page.getByTestId('outcome');
  }

  async openDashboard(): Promise<void> {
    await this.page.getByRole('button', { name: 'Open the dashboard' }).click();
  }
}
