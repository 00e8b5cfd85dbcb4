import { existsSync } from 'node:fs';
import path from 'node:path';
import { redact } from '../core/redact';
import { EngineError } from '../core/engine-error';
import type { Logger } from '../core/logger';
import type { ResourceType } from './graph/types';
import { withPgSession } from './materialize/pg-session';
import { findProfilesDir, projectProfileName, readProfile, type ProfileTarget } from './project/profiles';
import { buildCatalog, buildManifest, buildRunResults, writeArtifact, writeCompiled } from './run/artifacts';
import type { RunArtifacts, TransformOptions } from './run-transform';

export { runOperation, type RunOperationOutcome } from './run/run-operation';
export { sourceFreshness, type SourceFreshnessRow } from './run/source-freshness';
export type { RunArtifacts };

/**
 * The transform's one door for `cht-sync dbt <command>`: hosts import nothing else of
 * app/transform (eslint.config.mjs holds them to it). The run itself goes through the engine
 * (`transformNow` with `prepareDbtRun(…).options`); what dbt does around a run is here: the
 * target from profiles.yml, the node kinds of each command, target/ artifacts, ls, docs
 * generate, source freshness, run-operation and debug's connection test. Each of these opens
 * one connection with `withPgSession`, closed whatever happens.
 */
export type DbtCommand =
  | 'run'
  | 'build'
  | 'test'
  | 'seed'
  | 'snapshot'
  | 'compile'
  | 'ls'
  | 'docs generate'
  | 'run-operation'
  | 'debug'
  | 'source freshness';

/** The node kinds each command runs (or lists). */
const TYPES: Record<Exclude<DbtCommand, 'debug' | 'run-operation'>, ResourceType[]> = {
  run: ['model'],
  build: ['model', 'seed', 'snapshot', 'test', 'unit_test'],
  test: ['test', 'unit_test'],
  seed: ['seed'],
  snapshot: ['snapshot'],
  compile: ['model', 'snapshot', 'test'],
  ls: ['model', 'seed', 'snapshot', 'test', 'unit_test', 'source'],
  'docs generate': ['model', 'seed', 'snapshot', 'test', 'unit_test', 'source'],
  'source freshness': ['source'],
};

/** Whether `dir` holds a dbt project (its dbt_project.yml). */
export function isDbtProjectDir(dir: string): boolean {
  return existsSync(path.join(dir, 'dbt_project.yml'));
}

/**
 * A profiles.yml target. `url` is the connection it names, password included: it becomes the
 * engine's PostgreSQL setting and is never printed (show `safeUrl(url)`).
 */
export interface DbtTarget extends ProfileTarget {
  url: string;
}

/**
 * The profiles.yml target dbt would use: the folder from `profilesDir`, DBT_PROFILES_DIR, the
 * project folder or ~/.dbt; the profile named by `profile` or the project's dbt_project.yml;
 * the target named by `target` or the profile's default. Null when there is no profiles.yml
 * (or no profile to look for): the caller falls back to cht-sync's own settings. A `target`
 * without a profiles.yml is an error naming --target.
 */
export async function resolveDbtTarget(o: {
  /** The dbt project folder; null: cht-sync's configured project (profiles.yml is looked for in the current folder). */
  projectDir: string | null;
  profilesDir?: string;
  profile?: string;
  target?: string;
  env: NodeJS.ProcessEnv;
  vars?: Record<string, unknown>;
}): Promise<DbtTarget | null> {
  const dir = findProfilesDir({
    ...(o.profilesDir ? { profilesDir: o.profilesDir } : {}),
    projectDir: o.projectDir ?? process.cwd(),
    env: o.env,
  });
  if (!dir) {
    if (o.target)
      throw new EngineError(
        'CONFIG_INVALID',
        `--target ${o.target} needs a profiles.yml (none in --profiles-dir, DBT_PROFILES_DIR, the project folder or ~/.dbt).`,
      );
    return null;
  }
  const profile = o.profile ?? (o.projectDir ? projectProfileName(o.projectDir) : null);
  if (!profile) return null;
  const p = await readProfile({
    dir,
    profile,
    ...(o.target ? { target: o.target } : {}),
    env: o.env,
    ...(o.vars ? { vars: o.vars } : {}),
  });
  return { ...p, url: profileUrl(p) };
}

function profileUrl(p: ProfileTarget): string {
  const u = new URL('postgres://localhost');
  u.hostname = p.host;
  u.port = String(p.port);
  u.username = p.user;
  if (p.password) u.password = p.password;
  u.pathname = `/${p.dbname}`;
  if (p.sslmode) u.searchParams.set('sslmode', p.sslmode);
  return u.toString();
}

/** What `cht-sync dbt` hands the engine's `transformNow` as `dbt`. */
export type DbtRunOptions = Pick<
  TransformOptions,
  | 'resourceTypes'
  | 'build'
  | 'failFast'
  | 'indirectSelection'
  | 'compileOnly'
  | 'parseOnly'
  | 'onArtifacts'
  | 'threads'
  | 'target'
>;

/** dbt's flags that shape a run. */
export interface DbtRunFlags {
  /** --resource-type, as given (ls, build and test only; other commands run their own kinds). */
  resourceTypes?: string[];
  failFast?: boolean;
  indirectSelection?: string;
  /** --threads; else the target's. */
  threads?: number;
}

/**
 * The run behind a command (not debug): its options for the engine, and the artifacts
 * (graph, selection, per-node details) the run hands back, null until it has parsed the
 * project. run-operation only parses, to find its macro.
 */
export function prepareDbtRun(
  command: Exclude<DbtCommand, 'debug'>,
  flags: DbtRunFlags,
  target: DbtTarget | null,
): { options: DbtRunOptions; artifacts(): RunArtifacts | null } {
  let artifacts: RunArtifacts | null = null;
  const onArtifacts = (a: RunArtifacts): void => {
    artifacts = a;
  };
  const targetInfo = (threads: number | undefined): NonNullable<TransformOptions['target']> => ({
    name: target!.target,
    profileName: target!.profile,
    user: target!.user,
    host: target!.host,
    port: target!.port,
    dbname: target!.dbname,
    schema: target!.schema,
    database: target!.dbname,
    ...(threads !== undefined ? { threads } : {}),
  });
  if (command === 'run-operation')
    return {
      options: {
        parseOnly: true,
        resourceTypes: ['model'],
        ...(target ? { target: targetInfo(undefined) } : {}),
        onArtifacts,
      },
      artifacts: () => artifacts,
    };
  const types =
    flags.resourceTypes?.length && (command === 'ls' || command === 'build' || command === 'test')
      ? (flags.resourceTypes.flatMap((t) => t.split(/[\s,]+/)).filter(Boolean) as ResourceType[])
      : TYPES[command];
  const threads = flags.threads ?? target?.threads;
  return {
    options: {
      resourceTypes: types,
      build: command === 'build',
      failFast: flags.failFast === true,
      ...(flags.indirectSelection
        ? { indirectSelection: flags.indirectSelection as NonNullable<TransformOptions['indirectSelection']> }
        : {}),
      compileOnly: command === 'compile',
      parseOnly: command === 'ls' || command === 'docs generate' || command === 'source freshness',
      ...(threads !== undefined ? { threads } : {}),
      ...(target ? { target: targetInfo(threads) } : {}),
      onArtifacts,
    },
    artifacts: () => artifacts,
  };
}

/** target/manifest.json. */
export function writeManifest(projectDir: string, a: RunArtifacts): string {
  return writeArtifact(projectDir, 'manifest.json', buildManifest(a));
}

/** target/run_results.json, with the invocation's args as dbt records them. */
export function writeRunResults(
  projectDir: string,
  a: RunArtifacts,
  o: {
    command: DbtCommand;
    select: string[];
    exclude: string[];
    fullRefresh: boolean;
    vars: Record<string, unknown> | undefined;
    target: DbtTarget | null;
  },
): string {
  return writeArtifact(
    projectDir,
    'run_results.json',
    buildRunResults(a, {
      which: o.command.replace(' ', '_'),
      select: o.select,
      exclude: o.exclude,
      full_refresh: o.fullRefresh,
      vars: o.vars ?? {},
      target: o.target?.target ?? 'default',
    }),
  );
}

/** target/compiled/…: every compiled node's SQL; how many, and the folder. */
export function writeCompiledSql(projectDir: string, a: RunArtifacts): { nodes: number; dir: string } {
  return { nodes: writeCompiled(projectDir, a), dir: path.join(projectDir, 'target', 'compiled') };
}

/** The compiled SQL when exactly one node was selected (dbt compile prints it). */
export function singleCompiledSql(a: RunArtifacts): string | undefined {
  return a.selected.length === 1 ? a.compiled.get(a.selected[0]!) : undefined;
}

/** `dbt ls`: one line per selected node, in dbt's --output forms (selector, name, path, json). */
export function listNodes(a: RunArtifacts, output = 'selector'): string[] {
  return a.selected.map((id) => {
    const n = a.graph.nodes.get(id)!;
    const kind = n.resourceType ?? 'model';
    if (output === 'json')
      return JSON.stringify({
        name: n.name,
        resource_type: kind,
        package_name: n.packageName,
        original_file_path: n.file,
        unique_id: n.uniqueId,
        alias: n.name,
        config: n.config,
        tags: n.tags,
        depends_on: { nodes: n.dependsOn },
      });
    if (output === 'name') return n.name;
    if (output === 'path') return n.file;
    return kind === 'source'
      ? `source:${n.packageName}.${n.sourceKey}`
      : kind === 'unit_test'
        ? `unit_test:${[n.packageName, ...n.fqn].join('.')}`
        : [n.packageName, ...n.fqn].join('.');
  });
}

/** `dbt docs generate`: the catalog of what the run's nodes built; written to target/catalog.json when `projectDir` is given. */
export async function generateCatalog(
  a: RunArtifacts,
  url: string,
  logger: Logger,
  projectDir: string | null,
): Promise<{ catalog: Record<string, unknown>; file: string | null }> {
  const catalog = await withPgSession(url, logger, (session) => buildCatalog(a, session));
  return { catalog, file: projectDir ? writeArtifact(projectDir, 'catalog.json', catalog) : null };
}

/** `dbt debug`'s connection test (10 s at most); a failure's message is redacted. */
export async function checkConnection(
  url: string,
  logger: Logger,
): Promise<{ ok: true } | { ok: false; message: string }> {
  try {
    await withPgSession(url, logger, (session) => session.query('select 1'), { connectTimeoutMs: 10_000 });
    return { ok: true };
  } catch (error) {
    return { ok: false, message: redact((error as Error).message) };
  }
}
