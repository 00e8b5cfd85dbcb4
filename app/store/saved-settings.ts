import type { PipelineSetting, ScheduleSetting } from '../contract/dto';

/**
 * The settings the app keeps between runs. Like the contract's SettingsView but
 * internal and secret-free: passwords live in the SecretStore under SECRET_NAMES.
 */
export interface SavedSettings {
  isSetupComplete: boolean;
  /** `trustedFingerprint256`: the self-signed certificate the user chose to trust for `url` (SHA-256, upper case). */
  /** `scope`: place `_id`s whose subtrees alone are synced (the wizard's district step); empty = everything. */
  couch: { url: string | null; username: string | null; databases: string[]; trustedFingerprint256: string | null; scope?: string[] };
  postgres:
    | { kind: 'embedded'; port: number | null }
    | { kind: 'external'; host: string; port: number; database: string; username: string; ssl: boolean };
  schema: string;
  table: string;
  pipeline: PipelineSetting;
  schedule: ScheduleSetting;
  advanced: { batchSize: number; threads: number; transformBatchSize: number | null };
  language: 'en' | 'fr';
  isDemo: boolean;
}

export const SECRET_NAMES = {
  couchPassword: 'couch.password',
  postgresPassword: 'postgres.password',
} as const;

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
