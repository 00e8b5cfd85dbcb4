import type { ParsedArgs, SettingsView } from '../../contract';
import { EngineError } from '../../core/engine-error';
import { safeUrl } from '../../core/redact';
import { couchOrigin, postgresOrigin, saveBoundSecret, SECRET_NAMES, type SavedSettings } from '../../store';
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
      hasPassword: url.password !== '' || settings.postgresPasswordFor(config.postgres.url) !== null,
      ssl:
        ['require', 'verify-ca', 'verify-full'].includes(url.searchParams.get('sslmode') ?? '') ||
        url.searchParams.get('ssl') === 'true',
    };
  } else {
    postgres = {
      kind: 'embedded',
      port: pgService.current?.embedded?.port ?? (s.postgres.kind === 'embedded' ? s.postgres.port : null),
    };
  }
  return {
    isSetupComplete: s.isSetupComplete || config.couch !== null,
    couch: {
      url: config.couch?.url ?? s.couch.url,
      username: config.couch ? (config.couch.username ?? null) : s.couch.username,
      hasPassword:
        Boolean(config.couch?.password) ||
        (config.couch ? settings.couchPasswordFor(config.couch.url) !== null : false),
      databases: config.couch?.databases ?? s.couch.databases,
      trustedFingerprint256: config.couch
        ? (config.couch.trustedFingerprint256 ?? null)
        : s.couch.trustedFingerprint256,
      scope: config.couch ? (config.couch.scope ?? []) : (s.couch.scope ?? []),
    },
    postgres,
    schema: config.schema,
    table: config.table,
    pipeline: config.pipeline,
    schedule: s.schedule,
    advanced: {
      batchSize: config.batchSize,
      threads: config.transform.threads,
      transformBatchSize: config.transform.batchSize,
      transformAfterSync: s.advanced.transformAfterSync !== false,
    },
    language: s.language,
    isDemo: s.isDemo,
  };
}

/** Saves a settings patch: passwords to the secret store, credentials typed into the URL to their own fields. */
export function savePatch(
  { ctx }: Pick<EngineParts, 'ctx'>,
  patch: ParsedArgs<'settings.update'>,
  extra: Partial<SavedSettings> = {},
): void {
  const { store } = ctx;
  const before = store.settings.get();
  bindLegacySecrets(store, before);
  const next: Partial<SavedSettings> = { ...extra };
  if (patch.couch) {
    const couch: Partial<SavedSettings['couch']> = {};
    let password: string | null | undefined =
      patch.couch.password === undefined ? undefined : patch.couch.password === '' ? null : patch.couch.password;
    if (patch.couch.url !== undefined) {
      // Credentials typed into the URL move to their own fields: the URL is shown, the password never is.
      const parsed = parseUrl(patch.couch.url);
      if (parsed.username && patch.couch.username === undefined) couch.username = decodeURIComponent(parsed.username);
      if (parsed.password && password === undefined) password = decodeURIComponent(parsed.password);
      parsed.username = '';
      parsed.password = '';
      couch.url = parsed.toString().replace(/\/+$/, '');
      // A trusted certificate belongs to one server.
      if (couch.url !== before.couch.url) couch.trustedFingerprint256 = null;
    }
    if (patch.couch.trustedFingerprint256 !== undefined)
      couch.trustedFingerprint256 = patch.couch.trustedFingerprint256?.toUpperCase() ?? null;
    if (patch.couch.username !== undefined) couch.username = patch.couch.username || null;
    if (patch.couch.databases !== undefined) couch.databases = patch.couch.databases;
    if (patch.couch.scope !== undefined) couch.scope = [...new Set(patch.couch.scope)];
    // A new password is bound to the server it is saved with; a new server without one keeps
    // the old password bound to the old server, where it is of no use to the new one.
    if (password !== undefined)
      saveBoundSecret(store.secrets, SECRET_NAMES.couchPassword, couchOrigin(couch.url ?? before.couch.url), password);
    next.couch = { ...before.couch, ...couch };
  }
  if (patch.postgres) {
    if (patch.postgres.kind === 'embedded') next.postgres = { kind: 'embedded', port: null };
    else {
      const { password, ...rest } = patch.postgres;
      next.postgres = rest;
      if (password !== undefined)
        saveBoundSecret(
          store.secrets,
          SECRET_NAMES.postgresPassword,
          postgresOrigin(rest.host, rest.port),
          password === '' ? null : password,
        );
    }
  }
  if (patch.schema !== undefined) next.schema = patch.schema;
  if (patch.table !== undefined) next.table = patch.table;
  if (patch.pipeline !== undefined) next.pipeline = patch.pipeline;
  if (patch.schedule !== undefined) next.schedule = patch.schedule;
  if (patch.advanced !== undefined) next.advanced = { ...before.advanced, ...patch.advanced };
  if (patch.language !== undefined) next.language = patch.language;
  store.settings.update(next);
}

/** Passwords saved before origins were recorded: bound now to the servers the settings named when they were saved. */
function bindLegacySecrets(store: EngineParts['ctx']['store'], saved: SavedSettings): void {
  const pgOrigin = saved.postgres.kind === 'external' ? postgresOrigin(saved.postgres.host, saved.postgres.port) : null;
  for (const [name, origin] of [
    [SECRET_NAMES.couchPassword, couchOrigin(saved.couch.url)],
    [SECRET_NAMES.postgresPassword, pgOrigin],
  ] as const) {
    const value = store.secrets.get(name);
    if (value !== null && store.secrets.get(`${name}.origin`) === null && origin !== null)
      store.secrets.set(`${name}.origin`, origin);
  }
}

function parseUrl(text: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new EngineError(
      'INVALID_ARGUMENT',
      `"${safeUrl(text).slice(0, 80)}" is not a URL. Enter the address of the CHT instance, e.g. https://cht.example.org.`,
      { details: { field: 'couch.url' } },
    );
  }
}
