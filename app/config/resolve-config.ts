import path from 'node:path';
import type { PipelineSetting } from '../contract/dto';
import { EngineError } from '../core/engine-error';
import { registerSecret } from '../core/redact';
import { parseScopeList } from '../scope/selector';
import {
  boundSecret,
  couchOrigin,
  postgresOrigin,
  SECRET_NAMES,
  SETTING_BOUNDS,
  type SavedSettings,
} from '../contract/settings';

/** What the command line may set; values arrive as strings from the parser. */
export interface CliFlags {
  couchUrl: string;
  couchUser: string;
  /** SHA-256 fingerprint of a self-signed CouchDB certificate to accept. */
  trustCertificate: string;
  /** Place `_id`s whose subtrees alone are synced (comma- or space-separated). */
  scope: string | string[];
  postgresUrl: string;
  dataDir: string;
  /** Comma- or space-separated, or already split. */
  databases: string | string[];
  schema: string;
  table: string;
  batchSize: string | number;
  maxBatchBytes: string | number;
  /** A dbt project folder or a git URL (`…#branch`). */
  project: string;
  threads: string | number;
  transformBatchSize: string | number;
  selector: string;
  intervalSeconds: string | number;
}

export interface ResolvedConfig {
  dataDir: string;
  /** `url` never carries credentials; they are split out into username/password. */
  couch: {
    url: string;
    username?: string;
    password?: string;
    trustedFingerprint256?: string;
    databases: string[];
    scope?: string[];
  } | null;
  /** An external url may carry the password: never log it (use safeUrl). */
  postgres: { kind: 'embedded' } | { kind: 'external'; url: string };
  schema: string;
  table: string;
  batchSize: number;
  maxBatchBytes: number;
  pipeline: PipelineSetting;
  transform: { threads: number; batchSize: number | null; selector: string | null; intervalSeconds: number };
}

export interface ResolveConfigInput {
  flags: Partial<CliFlags>;
  env: NodeJS.ProcessEnv;
  saved: SavedSettings | null;
  dataDir: string;
  /** Where saved passwords are (the store's SecretStore). */
  secrets?: { get(name: string): string | null } | null;
}

export const DEFAULTS = {
  schema: 'v1',
  table: 'couchdb',
  batchSize: 1000,
  maxBatchBytes: 16 * 1024 * 1024,
  databases: ['medic'],
  threads: 1,
  intervalSeconds: 5,
  postgresPort: 5432,
  postgresUser: 'postgres',
  postgresDatabase: 'postgres',
} as const;

const CHT_DATABASE_NAMES = ['medic', 'medic-sentinel', 'medic-users-meta', '_users', 'medic-logs'];
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
// CouchDB's rule for database names (plus the system databases that start with `_`).
const COUCH_DB_NAME = /^(?:[a-z][a-z0-9_$()+/-]*|_users|_replicator|_global_changes)$/;

/**
 * One precedence for every setting: flags > environment (cht-sync's names) >
 * saved settings > defaults. Every problem found is reported at once, each
 * naming the setting and the fix.
 */
export function resolveConfig(input: ResolveConfigInput): ResolvedConfig {
  const problems: string[] = [];
  const flags = input.flags;
  const env = cleanEnv(input.env);
  const saved = input.saved;

  const couch = resolveCouch(flags, env, saved, input.secrets ?? null, problems);
  const postgres = resolvePostgres(flags, env, saved, input.secrets ?? null, problems);

  const schema = pick(
    flags.schema,
    'the --schema flag',
    env.POSTGRES_SCHEMA,
    'POSTGRES_SCHEMA',
    saved?.schema,
    'the saved schema',
    DEFAULTS.schema,
  );
  if (!IDENTIFIER.test(schema.value))
    problems.push(
      `${schema.from} must be a plain SQL name (letters, digits, _; not starting with a digit) (got '${schema.value}').`,
    );
  const table = pick(
    flags.table,
    'the --table flag',
    env.POSTGRES_TABLE,
    'POSTGRES_TABLE',
    saved?.table,
    'the saved table',
    DEFAULTS.table,
  );
  if (!IDENTIFIER.test(table.value))
    problems.push(
      `${table.from} must be a plain SQL name (letters, digits, _; not starting with a digit) (got '${table.value}').`,
    );

  const batchSize = integer(
    pickRaw(
      flags.batchSize,
      '--batch-size',
      undefined,
      '',
      saved?.advanced.batchSize,
      'the saved batch size',
      DEFAULTS.batchSize,
    ),
    SETTING_BOUNDS.batchSize.min,
    SETTING_BOUNDS.batchSize.max,
    problems,
  );
  const maxBatchBytes = integer(
    pickRaw(flags.maxBatchBytes, '--max-batch-bytes', undefined, '', undefined, '', DEFAULTS.maxBatchBytes),
    SETTING_BOUNDS.maxBatchBytes.min,
    SETTING_BOUNDS.maxBatchBytes.max,
    problems,
  );

  const threads = integer(
    pickRaw(
      flags.threads,
      '--threads',
      env.DBT_THREAD_COUNT,
      'DBT_THREAD_COUNT',
      saved?.advanced.threads,
      'the saved thread count',
      DEFAULTS.threads,
    ),
    SETTING_BOUNDS.threads.min,
    SETTING_BOUNDS.threads.max,
    problems,
  );
  const transformBatchRaw = pickRaw(
    flags.transformBatchSize,
    '--transform-batch-size',
    env.DBT_BATCH_SIZE,
    'DBT_BATCH_SIZE',
    saved?.advanced.transformBatchSize ?? undefined,
    'the saved transform batch size',
    null,
  );
  const transformBatchSize =
    transformBatchRaw.value === null
      ? null
      : integer(
          transformBatchRaw as Picked<string | number>,
          SETTING_BOUNDS.transformBatchSize.min,
          SETTING_BOUNDS.transformBatchSize.max,
          problems,
        );
  const selector = pickRaw(flags.selector, '--selector', env.DBT_SELECTOR, 'DBT_SELECTOR', undefined, '', null).value;
  const intervalSeconds = integer(
    pickRaw(
      flags.intervalSeconds,
      '--interval',
      env.DATAEMON_INTERVAL,
      'DATAEMON_INTERVAL',
      undefined,
      '',
      DEFAULTS.intervalSeconds,
    ),
    SETTING_BOUNDS.intervalSeconds.min,
    SETTING_BOUNDS.intervalSeconds.max,
    problems,
    'seconds',
  );

  const pipeline = resolvePipeline(flags, env, saved, problems);

  if (problems.length) {
    const message =
      problems.length === 1
        ? problems[0]!
        : `The configuration has ${problems.length} problems:\n- ${problems.join('\n- ')}`;
    throw new EngineError('CONFIG_INVALID', message, { details: { problems } });
  }
  return {
    dataDir: input.dataDir,
    couch,
    postgres,
    schema: schema.value,
    table: table.value,
    batchSize,
    maxBatchBytes,
    pipeline,
    transform: {
      threads,
      batchSize: transformBatchSize,
      selector: selector === null ? null : String(selector),
      intervalSeconds,
    },
  };
}

function resolveCouch(
  flags: Partial<CliFlags>,
  env: Record<string, string>,
  saved: SavedSettings | null,
  secrets: ResolveConfigInput['secrets'],
  problems: string[],
): ResolvedConfig['couch'] {
  let base: { url: string; username?: string; password?: string } | null = null;
  if (flags.couchUrl !== undefined && flags.couchUrl.trim() !== '') {
    base = parseCouchUrl(flags.couchUrl.trim(), '--couch-url', problems);
  } else if (env.COUCHDB_HOST !== undefined) {
    base = couchFromEnv(env, problems);
  } else if (saved?.couch.url) {
    base = parseCouchUrl(saved.couch.url, 'the saved CouchDB URL', problems);
  }
  if (!base) {
    if (env.COUCHDB_PORT !== undefined || env.COUCHDB_SECURE !== undefined) {
      problems.push(
        'COUCHDB_PORT / COUCHDB_SECURE are set but COUCHDB_HOST is not: set COUCHDB_HOST to the CHT server name (e.g. cht.example.org), or use --couch-url.',
      );
    }
    return null;
  }
  const username = base.username ?? flags.couchUser ?? env.COUCHDB_USER ?? saved?.couch.username ?? undefined;
  // A saved password only for the server it was saved for: --couch-url or COUCHDB_HOST naming another never receives it.
  const savedPassword = secrets
    ? boundSecret(secrets, SECRET_NAMES.couchPassword, couchOrigin(base.url), couchOrigin(saved?.couch.url))
    : null;
  const password = base.password ?? env.COUCHDB_PASSWORD ?? savedPassword ?? undefined;
  registerSecret(password);

  const dbs = pickRaw<string | string[]>(
    flags.databases,
    '--databases',
    env.COUCHDB_DBS,
    'COUCHDB_DBS',
    saved?.couch.databases.length ? saved.couch.databases : undefined,
    'the saved databases',
    [...DEFAULTS.databases],
  );
  const databases = splitList(dbs.value);
  if (databases.length === 0)
    problems.push(
      `${dbs.from} names no database: list them separated by commas or spaces (e.g. "medic, medic-sentinel").`,
    );
  for (const db of databases) {
    if (!COUCH_DB_NAME.test(db)) {
      problems.push(
        `${dbs.from} contains '${db}', which is not a CouchDB database name (lowercase letters, digits and _$()+-/, starting with a letter).`,
      );
    }
  }
  // A saved trust belongs to the saved server: it is not carried over to another URL.
  const savedTrust =
    saved?.couch.url && sameServer(saved.couch.url, base.url)
      ? (saved.couch.trustedFingerprint256 ?? undefined)
      : undefined;
  const trust = pickRaw<string | null>(
    flags.trustCertificate,
    '--trust-certificate',
    env.CHT_SYNC_TRUST_CERTIFICATE,
    'CHT_SYNC_TRUST_CERTIFICATE',
    savedTrust,
    'the saved trusted certificate',
    null,
  );
  const hasTrust = trust.value !== null && trust.value !== '';
  const fingerprint = hasTrust ? normaliseFingerprint(String(trust.value)) : null;
  if (hasTrust && fingerprint === null) {
    problems.push(
      `${trust.from} is not a SHA-256 certificate fingerprint: 32 pairs of hex digits separated by colons (AB:CD:…), as the connection error prints it.`,
    );
  }

  const scopeRaw = pickRaw<string | string[]>(
    flags.scope,
    '--scope',
    env.CHT_SYNC_SCOPE,
    'CHT_SYNC_SCOPE',
    saved?.couch.scope?.length ? saved.couch.scope : undefined,
    'the saved district',
    [],
  );
  const scope = parseScopeList(scopeRaw.value);
  for (const id of scope) {
    if (id.startsWith('_') || id.length > 200)
      problems.push(
        `${scopeRaw.from} contains '${id.slice(0, 60)}', which is not a place _id (a CHT place id is a uuid such as 0485b8cd-0e9d-4f9d-b28b-4479da034a09).`,
      );
  }

  const out: NonNullable<ResolvedConfig['couch']> = { url: base.url, databases: [...new Set(databases)] };
  if (scope.length > 0) out.scope = scope;
  if (username !== undefined && username !== '') out.username = username;
  if (password !== undefined && password !== '') out.password = password;
  if (fingerprint) out.trustedFingerprint256 = fingerprint;
  return out;
}

/** A SHA-256 certificate fingerprint as Node reports it (upper-case hex pairs joined by colons), or null. */
export function normaliseFingerprint(value: string): string | null {
  const hex = value
    .trim()
    .replace(/^sha256\s*fingerprint\s*=\s*/i, '')
    .replace(/[:\s]/g, '')
    .toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) return null;
  return hex.match(/../g)!.join(':');
}

function sameServer(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    return x.protocol === y.protocol && x.host === y.host;
  } catch {
    return false;
  }
}

function couchFromEnv(
  env: Record<string, string>,
  problems: string[],
): { url: string; username?: string; password?: string } | null {
  const hostValue = env.COUCHDB_HOST!;
  let isSecure: boolean | null = null;
  if (env.COUCHDB_SECURE !== undefined) {
    const v = env.COUCHDB_SECURE.toLowerCase();
    if (v === 'true' || v === '1' || v === 'yes') isSecure = true;
    else if (v === 'false' || v === '0' || v === 'no') isSecure = false;
    else problems.push(`COUCHDB_SECURE must be 'true' (https) or 'false' (http) (got '${env.COUCHDB_SECURE}').`);
  }
  let port: number | null = null;
  if (env.COUCHDB_PORT !== undefined) {
    port = portNumber(env.COUCHDB_PORT, 'COUCHDB_PORT', problems);
  }
  // COUCHDB_HOST is a bare host in cht-sync; accept a full URL too.
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(hostValue);
  let parsed: URL;
  try {
    parsed = new URL(hasScheme ? hostValue : `http://${hostValue}`);
  } catch {
    problems.push(`COUCHDB_HOST must be a host name like cht.example.org (got '${redactHost(hostValue)}').`);
    return null;
  }
  if (hasScheme && !['http:', 'https:'].includes(parsed.protocol)) {
    problems.push(`COUCHDB_HOST must use http:// or https:// (got '${parsed.protocol}').`);
    return null;
  }
  const protocol = isSecure === null ? (hasScheme ? parsed.protocol : 'http:') : isSecure ? 'https:' : 'http:';
  parsed.protocol = protocol;
  const explicitPort = port ?? (parsed.port ? Number(parsed.port) : null);
  // CouchDB listens on 5984; CHT behind its nginx speaks https on 443.
  const effectivePort = explicitPort ?? (protocol === 'https:' ? 443 : 5984);
  parsed.port = String(effectivePort);
  const creds = takeCredentials(parsed);
  const result: { url: string; username?: string; password?: string } = { url: stripTrailingSlash(parsed.toString()) };
  if (creds.username) result.username = creds.username;
  if (creds.password) result.password = creds.password;
  return result;
}

function parseCouchUrl(
  raw: string,
  from: string,
  problems: string[],
): { url: string; username?: string; password?: string } | null {
  let parsed: URL;
  try {
    parsed = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`);
  } catch {
    problems.push(`${from} must be a URL like https://cht.example.org (got '${redactHost(raw)}').`);
    return null;
  }
  if (!['http:', 'https:'].includes(parsed.protocol)) {
    problems.push(`${from} must start with http:// or https:// (got '${parsed.protocol}').`);
    return null;
  }
  const creds = takeCredentials(parsed);
  parsed.search = '';
  parsed.hash = '';
  // A common slip: the URL of a database instead of the server (CouchDB behind a path prefix stays allowed).
  const lastSegment = decodeURIComponent(parsed.pathname.replace(/\/+$/, '').split('/').pop() ?? '');
  if (CHT_DATABASE_NAMES.includes(lastSegment)) {
    const server = new URL(parsed.toString());
    server.pathname = parsed.pathname.replace(/\/+$/, '').slice(0, -encodeURIComponent(lastSegment).length);
    problems.push(
      `${from} must be the server's address, not a database: use ${stripTrailingSlash(server.toString())} and name '${lastSegment}' in --databases / COUCHDB_DBS.`,
    );
    return null;
  }
  const result: { url: string; username?: string; password?: string } = { url: stripTrailingSlash(parsed.toString()) };
  if (creds.username) result.username = creds.username;
  if (creds.password) {
    result.password = creds.password;
    registerSecret(creds.password);
  }
  return result;
}

function resolvePostgres(
  flags: Partial<CliFlags>,
  env: Record<string, string>,
  saved: SavedSettings | null,
  secrets: ResolveConfigInput['secrets'],
  problems: string[],
): ResolvedConfig['postgres'] {
  const envPassword = env.POSTGRES_PASSWORD;
  registerSecret(envPassword);
  if (flags.postgresUrl !== undefined && flags.postgresUrl.trim() !== '') {
    const raw = flags.postgresUrl.trim();
    if (raw === 'embedded') return { kind: 'embedded' };
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      problems.push(`--postgres-url must look like postgres://user@host:5432/database (or 'embedded').`);
      return { kind: 'embedded' };
    }
    if (!['postgres:', 'postgresql:'].includes(parsed.protocol)) {
      problems.push(`--postgres-url must start with postgres:// (got '${parsed.protocol}').`);
      return { kind: 'embedded' };
    }
    registerSecret(decodeURIComponent(parsed.password));
    // Keep the password off the command line: a URL without one takes POSTGRES_PASSWORD.
    if (!parsed.password && envPassword) parsed.password = encodeURIComponent(envPassword);
    return { kind: 'external', url: parsed.toString() };
  }
  if (env.POSTGRES_HOST !== undefined) {
    const port =
      env.POSTGRES_PORT !== undefined
        ? portNumber(env.POSTGRES_PORT, 'POSTGRES_PORT', problems)
        : DEFAULTS.postgresPort;
    return {
      kind: 'external',
      url: buildPostgresUrl({
        host: env.POSTGRES_HOST,
        port: port ?? DEFAULTS.postgresPort,
        user: env.POSTGRES_USER ?? DEFAULTS.postgresUser,
        password: envPassword ?? null,
        database: env.POSTGRES_DB ?? DEFAULTS.postgresDatabase,
        ssl: false,
      }),
    };
  }
  if (env.POSTGRES_PORT !== undefined || env.POSTGRES_DB !== undefined) {
    problems.push(
      'POSTGRES_PORT / POSTGRES_DB are set but POSTGRES_HOST is not: set POSTGRES_HOST to the PostgreSQL server, or remove them to use the embedded PostgreSQL.',
    );
  }
  if (saved?.postgres.kind === 'external') {
    const p = saved.postgres;
    const origin = postgresOrigin(p.host, p.port);
    const password =
      envPassword ?? (secrets ? boundSecret(secrets, SECRET_NAMES.postgresPassword, origin, origin) : null);
    registerSecret(password);
    return {
      kind: 'external',
      url: buildPostgresUrl({
        host: p.host,
        port: p.port,
        user: p.username,
        password,
        database: p.database,
        ssl: p.ssl,
      }),
    };
  }
  return { kind: 'embedded' };
}

export function buildPostgresUrl(p: {
  host: string;
  port: number;
  user: string;
  password: string | null;
  database: string;
  ssl: boolean;
}): string {
  const url = new URL('postgres://localhost');
  url.hostname = p.host;
  url.port = String(p.port);
  url.username = encodeURIComponent(p.user);
  if (p.password) url.password = encodeURIComponent(p.password);
  url.pathname = `/${encodeURIComponent(p.database)}`;
  if (p.ssl) url.searchParams.set('sslmode', 'require');
  return url.toString();
}

function resolvePipeline(
  flags: Partial<CliFlags>,
  env: Record<string, string>,
  saved: SavedSettings | null,
  problems: string[],
): PipelineSetting {
  if (flags.project !== undefined && flags.project.trim() !== '') return projectSetting(flags.project.trim());
  // cht-sync: DBT_LOCAL_PATH (a checkout on disk) wins over CHT_PIPELINE_BRANCH_URL when set.
  if (env.DBT_LOCAL_PATH !== undefined) return { kind: 'folder', path: path.resolve(env.DBT_LOCAL_PATH) };
  if (env.CHT_PIPELINE_BRANCH_URL !== undefined) {
    const url = env.CHT_PIPELINE_BRANCH_URL;
    if (!isGitUrl(url))
      problems.push(
        `CHT_PIPELINE_BRANCH_URL must be a git URL like https://github.com/medic/cht-pipeline.git#main (got '${redactHost(url)}').`,
      );
    return { kind: 'git', url };
  }
  return saved?.pipeline ?? { kind: 'bundled' };
}

function projectSetting(value: string): PipelineSetting {
  if (value === 'bundled') return { kind: 'bundled' };
  return isGitUrl(value) ? { kind: 'git', url: value } : { kind: 'folder', path: path.resolve(value) };
}

function isGitUrl(value: string): boolean {
  return /^(https?|git|ssh):\/\//i.test(value) || /^git@[^:]+:/.test(value);
}

type Picked<T> = { value: T; from: string };

function pick(
  flag: string | undefined,
  flagName: string,
  envValue: string | undefined,
  envName: string,
  savedValue: string | undefined,
  savedName: string,
  fallback: string,
): Picked<string> {
  if (flag !== undefined && flag !== '') return { value: flag, from: flagName };
  if (envValue !== undefined) return { value: envValue, from: envName };
  if (savedValue !== undefined) return { value: savedValue, from: savedName };
  return { value: fallback, from: 'the default' };
}

function pickRaw<T>(
  flag: T | undefined,
  flagName: string,
  envValue: string | undefined,
  envName: string,
  savedValue: T | undefined,
  savedName: string,
  fallback: T,
): Picked<T | string> {
  if (flag !== undefined && flag !== '') return { value: flag, from: flagName };
  if (envValue !== undefined) return { value: envValue, from: envName };
  if (savedValue !== undefined && savedValue !== null) return { value: savedValue, from: savedName };
  return { value: fallback, from: 'the default' };
}

function integer(p: Picked<unknown>, min: number, max: number, problems: string[], unit = ''): number {
  const raw = typeof p.value === 'number' ? String(p.value) : String(p.value).trim();
  const n = /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    problems.push(
      `${p.from} must be a whole number${unit ? ` of ${unit}` : ''} between ${min} and ${max} (got '${raw}').`,
    );
    return min;
  }
  return n;
}

function portNumber(raw: string, name: string, problems: string[]): number | null {
  const n = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!Number.isInteger(n) || n < SETTING_BOUNDS.port.min || n > SETTING_BOUNDS.port.max) {
    problems.push(`${name} must be a number between 1 and 65535 (got '${raw}').`);
    return null;
  }
  return n;
}

function splitList(value: string | string[]): string[] {
  const parts = Array.isArray(value) ? value.flatMap((v) => v.split(/[\s,]+/)) : value.split(/[\s,]+/);
  return parts.map((p) => p.trim().replace(/^["']|["']$/g, '')).filter((p) => p !== '');
}

function takeCredentials(url: URL): { username: string; password: string } {
  const creds = { username: safeDecode(url.username), password: safeDecode(url.password) };
  url.username = '';
  url.password = '';
  return creds;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function stripTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** Never echo credentials that a malformed value might contain. */
function redactHost(value: string): string {
  return value.replace(/\/\/[^@/]*@/, '//***@');
}

/**
 * Empty values count as unset (docker compose passes `KEY=` through as ''),
 * and surrounding quotes are dropped (a value copied with its quotes).
 */
function cleanEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) continue;
    const trimmed = value
      .trim()
      .replace(/^"(.*)"$/s, '$1')
      .replace(/^'(.*)'$/s, '$1');
    if (trimmed !== '') out[key] = trimmed;
  }
  return out;
}
