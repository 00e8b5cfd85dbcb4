import type Database from 'better-sqlite3';
import { defaultSavedSettings, mergeSettings, type SavedSettings } from './saved-settings';

export interface SettingsRepo {
  /** The saved settings, defaults filled in for anything never saved. */
  get(): SavedSettings;
  /** Whether anything was ever saved (a fresh data folder has nothing). */
  hasSaved(): boolean;
  update(patch: Partial<SavedSettings>): SavedSettings;
}

export function settingsRepo(db: Database.Database): SettingsRepo {
  const select = db.prepare('select json from settings where id = 1');
  const upsert = db.prepare(
    `insert into settings (id, json, updated_at) values (1, ?, ?)
     on conflict (id) do update set json = excluded.json, updated_at = excluded.updated_at`,
  );
  const read = (): SavedSettings => {
    const row = select.get() as { json: string } | undefined;
    // Merge over defaults so settings saved by an older build gain new fields.
    return row
      ? mergeSettings(defaultSavedSettings(), JSON.parse(row.json) as Partial<SavedSettings>)
      : defaultSavedSettings();
  };
  const update = db.transaction((patch: Partial<SavedSettings>): SavedSettings => {
    const next = mergeSettings(read(), patch);
    upsert.run(JSON.stringify(next), new Date().toISOString());
    return next;
  });
  return {
    get: read,
    hasSaved: () => select.get() !== undefined,
    update: (patch) => update.immediate(patch),
  };
}
