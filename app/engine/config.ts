import type { ResolvedConfig } from '../config';
import type { SavedSettings } from '../store';

/** What the engine runs on: app/config's resolved configuration. */
export type EngineConfig = ResolvedConfig;

/**
 * Saved settings alone → config: used after the UI changes settings, when the
 * command-line flags and environment that shaped the startup config no longer apply
 * to the changed parts. Secrets are filled in by the engine from the SecretStore.
 */
export function configFromSaved(saved: SavedSettings, base: EngineConfig): EngineConfig {
  const couch = saved.couch.url
    ? {
        url: saved.couch.url,
        ...(saved.couch.username ? { username: saved.couch.username } : {}),
        databases: saved.couch.databases,
      }
    : null;
  let postgres: EngineConfig['postgres'] = { kind: 'embedded' };
  if (saved.postgres.kind === 'external') {
    const url = new URL('postgres://localhost');
    url.hostname = saved.postgres.host;
    url.port = String(saved.postgres.port);
    url.username = saved.postgres.username;
    url.pathname = `/${encodeURIComponent(saved.postgres.database)}`;
    if (saved.postgres.ssl) url.searchParams.set('sslmode', 'require');
    postgres = { kind: 'external', url: url.toString() };
  }
  return {
    ...base,
    couch,
    postgres,
    schema: saved.schema,
    table: saved.table,
    batchSize: saved.advanced.batchSize,
    pipeline: saved.pipeline,
    transform: { ...base.transform, threads: saved.advanced.threads, batchSize: saved.advanced.transformBatchSize },
  };
}

/** Adds a password to a PostgreSQL URL that has none. */
export function withPassword(url: string, password: string | null): string {
  if (!password) return url;
  const parsed = new URL(url);
  if (parsed.password) return url;
  parsed.password = password;
  return parsed.toString();
}
