import type { SavedSettings } from '../contract/settings';

// The shape and the secret names are the contract's (app/config takes saved settings as a plain value).
export { SECRET_NAMES, type SavedSettings } from '../contract/settings';

export function defaultSavedSettings(): SavedSettings {
  return {
    isSetupComplete: false,
    couch: { url: null, username: null, databases: [], trustedFingerprint256: null },
    postgres: { kind: 'embedded', port: null },
    schema: 'v1',
    table: 'couchdb',
    pipeline: { kind: 'bundled' },
    schedule: { kind: 'manual' },
    advanced: { batchSize: 1000, threads: 1, transformBatchSize: null },
    language: 'en',
    isDemo: false,
  };
}

/**
 * Applies a patch: `couch` and `advanced` merge field by field (a form may send
 * one field); the tagged unions (`postgres`, `pipeline`, `schedule`) are replaced whole.
 */
export function mergeSettings(base: SavedSettings, patch: Partial<SavedSettings>): SavedSettings {
  const out: SavedSettings = { ...base };
  for (const key of Object.keys(patch) as (keyof SavedSettings)[]) {
    const value = patch[key];
    if (value === undefined) continue;
    if (key === 'couch') out.couch = { ...base.couch, ...(value as Partial<SavedSettings['couch']>) };
    else if (key === 'advanced') out.advanced = { ...base.advanced, ...(value as Partial<SavedSettings['advanced']>) };
    else (out as unknown as Record<string, unknown>)[key] = value;
  }
  return out;
}
