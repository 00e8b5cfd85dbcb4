import type { ParsedArgs, SettingsView } from '../../contract';
import { EngineError } from '../../core/engine-error';
import { safeUrl } from '../../core/redact';
import { SECRET_NAMES, type SavedSettings } from '../../store';
import type { HandlerTable } from '../types';
import { applySettings, type EngineParts } from './parts';

/** settings.get / settings.update: what is in effect, and changes saved then applied. */
export function settingsHandlers(parts: EngineParts): Pick<HandlerTable, 'settings.get' | 'settings.update'> {
  const { ctx, settings } = parts;
  return {
    'settings.get': async () => settingsView(parts),
    'settings.update': async (patch) => {
      const before = ctx.store.settings.get();
      savePatch(parts, patch);
      try {
        settings.check(ctx.store.settings.get());
      } catch (error) {
        // Keep the last working settings rather than a combination the engine cannot run with.
        ctx.store.settings.update(before);
        throw error;
      }
      await applySettings(parts);
      return settingsView(parts);
    },
  };
}

/** What is in effect: flags and environment show through (they win over saved settings). */
export function settingsView({ ctx, settings, postgres: pgService }: EngineParts): SettingsView {
  const s = ctx.store.settings.get();
  const config = settings.current;
  let postgres: SettingsView['postgres'];
  if (config.postgres.kind === 'external') {
    const url = new URL(config.postgres.url);
    postgres = {
      kind: 'external',
      host: url.hostname,
      port: Number(url.port || 5432),
      database: decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres',
      username: decodeURIComponent(url.username),
      hasPassword: url.password !== '' || settings.secret(SECRET_NAMES.postgresPassword) !== null,
      ssl: ['require', 'verify-ca', 'verify-full'].includes(url.searchParams.get('sslmode') ?? '') || url.searchParams.get('ssl') === 'true',
    };
  } else {
    postgres = { kind: 'embedded', port: pgService.current?.embedded?.port ?? (s.postgres.kind === 'embedded' ? s.postgres.port : null) };
  }
  return {
    isSetupComplete: s.isSetupComplete || config.couch !== null,
    couch: {
      url: config.couch?.url ?? s.couch.url,
      username: config.couch ? (config.couch.username ?? null) : s.couch.username,
      hasPassword: Boolean(config.couch?.password) || settings.secret(SECRET_NAMES.couchPassword) !== null,
      databases: config.couch?.databases ?? s.couch.databases,
      trustedFingerprint256: config.couch ? (config.couch.trustedFingerprint256 ?? null) : s.couch.trustedFingerprint256,
    },
    postgres,
    schema: config.schema,
    table: config.table,
    pipeline: config.pipeline,
    schedule: s.schedule,
    advanced: { batchSize: config.batchSize, threads: config.transform.threads, transformBatchSize: config.transform.batchSize },
    language: s.language,
    isDemo: s.isDemo,
  };
}

/** Saves a settings patch: passwords to the secret store, credentials typed into the URL to their own fields. */
export function savePatch({ ctx }: Pick<EngineParts, 'ctx'>, patch: ParsedArgs<'settings.update'>, extra: Partial<SavedSettings> = {}): void {
  const { store } = ctx;
  const next: Partial<SavedSettings> = { ...extra };
  if (patch.couch) {
    const couch: Partial<SavedSettings['couch']> = {};
    if (patch.couch.url !== undefined) {
      // Credentials typed into the URL move to their own fields: the URL is shown, the password never is.
      const parsed = parseUrl(patch.couch.url);
      if (parsed.username && patch.couch.username === undefined) couch.username = decodeURIComponent(parsed.username);
      if (parsed.password && patch.couch.password === undefined) store.secrets.set(SECRET_NAMES.couchPassword, decodeURIComponent(parsed.password));
      parsed.username = '';
      parsed.password = '';
      couch.url = parsed.toString().replace(/\/+$/, '');
      // A trusted certificate belongs to one server.
      if (couch.url !== store.settings.get().couch.url) couch.trustedFingerprint256 = null;
    }
    if (patch.couch.trustedFingerprint256 !== undefined) couch.trustedFingerprint256 = patch.couch.trustedFingerprint256?.toUpperCase() ?? null;
    if (patch.couch.username !== undefined) couch.username = patch.couch.username || null;
    if (patch.couch.databases !== undefined) couch.databases = patch.couch.databases;
    if (patch.couch.password !== undefined) store.secrets.set(SECRET_NAMES.couchPassword, patch.couch.password === '' ? null : patch.couch.password);
    next.couch = { ...store.settings.get().couch, ...couch };
  }
  if (patch.postgres) {
    if (patch.postgres.kind === 'embedded') next.postgres = { kind: 'embedded', port: null };
    else {
      const { password, ...rest } = patch.postgres;
      next.postgres = rest;
      if (password !== undefined) store.secrets.set(SECRET_NAMES.postgresPassword, password === '' ? null : password);
    }
  }
  if (patch.schema !== undefined) next.schema = patch.schema;
  if (patch.table !== undefined) next.table = patch.table;
  if (patch.pipeline !== undefined) next.pipeline = patch.pipeline;
  if (patch.schedule !== undefined) next.schedule = patch.schedule;
  if (patch.advanced !== undefined) next.advanced = { ...store.settings.get().advanced, ...patch.advanced };
  if (patch.language !== undefined) next.language = patch.language;
  store.settings.update(next);
}

function parseUrl(text: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new EngineError('INVALID_ARGUMENT', `"${safeUrl(text).slice(0, 80)}" is not a URL. Enter the address of the CHT instance, e.g. https://cht.example.org.`, { details: { field: 'couch.url' } });
  }
}
