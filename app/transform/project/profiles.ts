import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { EngineError } from '../../core/engine-error';
import { dbtFilters } from '../context/dbt-context';
import { callable, Environment, pyStr } from '../jinja';

/**
 * profiles.yml as dbt reads it: the folder from --profiles-dir, else DBT_PROFILES_DIR, else the
 * project folder (when it has one), else ~/.dbt; the profile named by dbt_project.yml's
 * `profile:` (or --profile); the target from --target or the profile's `target:`. Every
 * string is rendered with env_var() (and var() from --vars) and dbt's as_number/as_bool
 * filters. Only PostgreSQL targets can run here.
 */
export interface ProfileTarget {
  profile: string;
  target: string;
  host: string;
  port: number;
  user: string;
  password: string | null;
  dbname: string;
  schema: string;
  threads: number;
  sslmode: string | null;
  file: string;
}

export function findProfilesDir(o: {
  profilesDir?: string;
  projectDir: string;
  env: NodeJS.ProcessEnv;
}): string | null {
  const candidates = [o.profilesDir, o.env.DBT_PROFILES_DIR, o.projectDir, path.join(os.homedir(), '.dbt')].filter(
    (x): x is string => typeof x === 'string' && x !== '',
  );
  if (o.profilesDir)
    return existsSync(path.join(o.profilesDir, 'profiles.yml'))
      ? path.resolve(o.profilesDir)
      : fail(`No profiles.yml in --profiles-dir ${o.profilesDir}.`);
  for (const dir of candidates) if (existsSync(path.join(dir, 'profiles.yml'))) return path.resolve(dir);
  return null;
}

function fail(message: string): never {
  throw new EngineError('CONFIG_INVALID', message);
}

/** The `profile:` key of the project's dbt_project.yml. */
export function projectProfileName(projectDir: string): string | null {
  const file = ['dbt_project.yml', 'dbt_project.yaml'].map((f) => path.join(projectDir, f)).find((f) => existsSync(f));
  if (!file) return null;
  const doc = YAML.parse(readFileSync(file, 'utf8')) as { profile?: unknown } | null;
  return typeof doc?.profile === 'string' ? doc.profile : null;
}

async function renderValue(
  env: Environment,
  value: unknown,
  ctx: Record<string, unknown>,
  where: string,
): Promise<unknown> {
  if (typeof value === 'string') {
    if (!value.includes('{{') && !value.includes('{%')) return value;
    const out = await env.parse(value, where).render(ctx);
    return out;
  }
  if (Array.isArray(value)) return Promise.all(value.map((v, i) => renderValue(env, v, ctx, `${where}[${i}]`)));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = await renderValue(env, v, ctx, `${where}.${k}`);
    return out;
  }
  return value;
}

export async function readProfile(o: {
  dir: string;
  profile: string;
  target?: string;
  env: NodeJS.ProcessEnv;
  vars?: Record<string, unknown>;
}): Promise<ProfileTarget> {
  const file = path.join(o.dir, 'profiles.yml');
  let doc: Record<string, unknown>;
  try {
    doc = (YAML.parse(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
  } catch (error) {
    return fail(`${file} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  const profile = doc[o.profile] as Record<string, unknown> | undefined;
  if (!profile || typeof profile !== 'object')
    return fail(
      `${file} has no profile named '${o.profile}' (dbt_project.yml asks for it). Profiles there: ${
        Object.keys(doc)
          .filter((k) => k !== 'config')
          .join(', ') || 'none'
      }.`,
    );
  const env = new Environment({ filters: { ...dbtFilters } });
  const ctx: Record<string, unknown> = {
    env_var: callable((args) => {
      const name = pyStr(args[0]);
      const v = o.env[name];
      if (v !== undefined) return v;
      if (args.length > 1) return args[1];
      throw new EngineError(
        'CONFIG_INVALID',
        `${file}: env_var('${name}') is not set and has no default. Set ${name}.`,
      );
    }),
    var: callable((args) => {
      const name = pyStr(args[0]);
      if (o.vars && name in o.vars) return o.vars[name];
      if (args.length > 1) return args[1];
      throw new EngineError('CONFIG_INVALID', `${file}: var('${name}') is not set; pass it with --vars.`);
    }),
  };
  const targetName = o.target ?? (await renderValue(env, profile.target, ctx, `${o.profile}.target`));
  if (typeof targetName !== 'string' || !targetName)
    return fail(`${file}: profile '${o.profile}' names no target; pass --target or set target:.`);
  const outputs = (profile.outputs ?? {}) as Record<string, unknown>;
  const raw = outputs[targetName];
  if (!raw || typeof raw !== 'object')
    return fail(
      `${file}: profile '${o.profile}' has no target '${targetName}' (targets: ${Object.keys(outputs).join(', ') || 'none'}).`,
    );
  const t = (await renderValue(env, raw, ctx, `${o.profile}.outputs.${targetName}`)) as Record<string, unknown>;
  const type = String(t.type ?? '');
  if (type !== 'postgres')
    return fail(`${file}: target '${targetName}' is of type '${type}'; cht-sync runs PostgreSQL targets only.`);
  const str = (k: string, d?: string): string => {
    const v = t[k];
    if (v === undefined || v === null || v === '') {
      if (d !== undefined) return d;
      return fail(`${file}: target '${targetName}' needs '${k}'.`);
    }
    return String(v);
  };
  const num = (k: string, d: number): number => {
    const v = t[k];
    if (v === undefined || v === null || v === '') return d;
    const n = Number(v);
    return Number.isFinite(n) ? n : fail(`${file}: target '${targetName}': ${k} must be a number (got ${String(v)}).`);
  };
  return {
    profile: o.profile,
    target: targetName,
    host: str('host'),
    port: num('port', 5432),
    user: str('user'),
    password: t.password !== undefined ? String(t.password ?? '') : t.pass !== undefined ? String(t.pass ?? '') : null,
    dbname: str('dbname', typeof t.database === 'string' ? t.database : undefined),
    schema: str('schema'),
    threads: num('threads', 1),
    sslmode: typeof t.sslmode === 'string' ? t.sslmode : null,
    file,
  };
}
