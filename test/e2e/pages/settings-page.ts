import type { Page } from 'playwright-core';

export class SettingsPage {
  constructor(readonly page: Page) {}

  async open(): Promise<void> {
    await this.page
      .getByRole('navigation')
      .getByRole('link', { name: /^(Settings|Paramètres)$/ })
      .click();
    await this.page.getByRole('heading', { level: 1, name: /^(Settings|Paramètres)$/ }).waitFor();
  }

  async setLanguage(lang: 'English' | 'Français'): Promise<void> {
    await this.page.getByLabel(/^(Language of the app|Langue de l’application)$/).selectOption({ label: lang });
  }
}
