import path from 'node:path';
import { performance } from 'node:perf_hooks';
import YAML from 'yaml';
import type { ModelRunResult, TransformRunResult } from '../../contract/dto';
import { EngineError } from '../../core/engine-error';
import { safeUrl } from '../../core/redact';
import {
  checkConnection,
  generateCatalog,
  isDbtProjectDir,
  listNodes,
  prepareDbtRun,
  resolveDbtTarget,
  runOperation,
  singleCompiledSql,
  sourceFreshness,
  writeCompiledSql,
  writeManifest,
  writeRunResults,
  type DbtCommand,
  type DbtTarget,
} from '../../transform/dbt-invocation';
import { announcePostgres, onStopSignal, openEngine, preflightPostgres, type CliEngine } from '../common';
import type { CliContext } from '../context';
import { count, seconds, table } from '../output';
import { parseVars, splitSelectors } from './transform';

export type { DbtCommand };

/**
 * `cht-sync dbt <command>`: dbt's CLI on our engine. The project is --project-dir (or the
 * current folder when it holds dbt_project.yml, else cht-sync's configured project); the
 * connection comes from profiles.yml as dbt finds it, else from cht-sync's own settings.
 * Exit codes are dbt's: 0 success, 1 a node failed, 2 dbt could not run (bad project/args).
 * This file parses arguments, prints and picks the exit code; the work is the engine's
 * (the run) and the transform's dbt entry (app/transform/dbt-invocation.ts).
 */
export interface DbtOptions {
  select?: string[];
  exclude?: string[];
  selector?: string;
  target?: string;
  profile?: string;
  profilesDir?: string;
  projectDir?: string;
  vars?: string;
  fullRefresh?: boolean;
  failFast?: boolean;
  threads?: string;
  resourceType?: string[];
  output?: string;
  args?: string;
  indirectSelection?: string;
}

const DBT_EXIT = { ok: 0, failed: 1, error: 2 } as const;

/** The dbt project folder for this invocation (null: cht-sync's configured project). */
export function dbtProjectDir(o: DbtOptions): string | null {
  if (o.projectDir) return path.resolve(o.projectDir);
  return isDbtProjectDir(process.cwd()) ? process.cwd() : null;
}

function statusWord(m: ModelRunResult): string {
  switch (m.status) {
    case 'success':
      return 'OK';
    case 'pass':
      return 'PASS';
    case 'fail':
      return 'FAIL';
    case 'warn':
      return 'WARN';
    case 'error':
      return 'ERROR';
    case 'skipped':
      return 'SKIP';
    default:
      return m.status.toUpperCase();
  }
}

function kindOf(m: ModelRunResult): string {
  const k = m.resourceType ?? 'model';
  return k === 'model' ? `${m.materialized} model` : k === 'unit_test' ? 'unit test' : k;
}

export function dbtSummary(result: TransformRunResult): string {
  const lines: string[] = [];
  const counts = { PASS: 0, WARN: 0, ERROR: 0, SKIP: 0 };
  for (const m of result.models) {
    if (m.status === 'success' || m.status === 'pass') counts.PASS++;
    else if (m.status === 'warn') counts.WARN++;
    else if (m.status === 'error' || m.status === 'fail') counts.ERROR++;
    else if (m.status === 'skipped') counts.SKIP++;
  }
  for (const m of result.models) {
    if (m.status === 'fail' || m.status === 'warn') {
      lines.push(`${statusWord(m)} ${m.model}: ${m.description ?? ''}${m.message ? ` — ${m.message}` : ''}`);
      if (m.failingSql) lines.push(`  failing rows: ${m.failingSql.split('\n').join(' ').slice(0, 300)}`);
    }
    if (m.error) {
      const where = [m.error.details?.file, m.error.details?.line].filter((x) => x !== undefined).join(':');
      lines.push(`ERROR ${m.model}: ${m.error.message}${where ? ` (${where})` : ''}`);
    }
  }
  for (const w of result.warnings) lines.push(`warning: ${w}`);
  const total = result.models.length;
  lines.push(`Done. PASS=${counts.PASS} WARN=${counts.WARN} ERROR=${counts.ERROR} SKIP=${counts.SKIP} TOTAL=${total}`);
  return lines.join('\n');
}

/** dbt's exit code: 2 when the project could not be used at all, 1 when a node errored or failed. */
function exitCodeOf(result: TransformRunResult): number {
  if (result.outcome === 'cancelled') return 130;
  const engineLevel = result.models.find((m) => m.uniqueId === '(project)' || m.uniqueId === '(engine)');
  if (engineLevel) return DBT_EXIT.error;
  if (result.models.some((m) => m.status === 'error' || m.status === 'fail')) return DBT_EXIT.failed;
  if (result.outcome === 'failed' || result.outcome === 'partial') return DBT_EXIT.failed;
  return DBT_EXIT.ok;
}

export async function dbtCommand(
  ctx: CliContext,
  command: DbtCommand,
  o: DbtOptions,
  positional: string[] = [],
): Promise<number> {
  const vars = parseVars(o.vars);
  const projectDir = dbtProjectDir(o);
  if (o.projectDir && !isDbtProjectDir(projectDir!))
    throw new EngineError(
      'CONFIG_INVALID',
      `No dbt_project.yml in ${projectDir}. Point --project-dir at a dbt project folder.`,
    );
  const target = await resolveDbtTarget({
    projectDir,
    ...(o.profilesDir ? { profilesDir: o.profilesDir } : {}),
    ...(o.profile ? { profile: o.profile } : {}),
    ...(o.target ? { target: o.target } : {}),
    env: ctx.env,
    ...(vars ? { vars } : {}),
  });
  // The connection: a profile's target overrides cht-sync's configured PostgreSQL and schema.
  if (target) ctx.flags = { ...ctx.flags, postgresUrl: target.url, schema: target.schema };
  if (projectDir) ctx.flags = { ...ctx.flags, project: projectDir };
  const select = [...splitSelectors(o.select), ...(o.selector ? [`selector:${o.selector}`] : [])];
  const exclude = splitSelectors(o.exclude);
  const engine = await openEngine(ctx, 'in-process');
  const t0 = performance.now();
  try {
    if (command === 'debug') return await dbtDebug(ctx, engine.config().postgres, target, projectDir);
    await preflightPostgres(engine);
    // `dbt ls` prints node names only (scripts read them); the other commands say where they write.
    const url = command === 'ls' ? await engine.ensurePostgres() : await announcePostgres(ctx, engine);
    if (command === 'run-operation') return await dbtRunOperation(ctx, engine, url, positional[0], o, vars, target);
    const run = prepareDbtRun(
      command,
      {
        ...(o.resourceType ? { resourceTypes: o.resourceType } : {}),
        failFast: o.failFast === true,
        ...(o.indirectSelection ? { indirectSelection: o.indirectSelection } : {}),
        ...(o.threads ? { threads: Number(o.threads) } : {}),
      },
      target,
    );
    const off = engine.events.on('transform.modelFinished', ({ model }) => {
      if (ctx.isJson || run.options.parseOnly) return;
      const rows =
        model.rowsAffected !== null && model.status === 'success' ? ` [${count(model.rowsAffected)} rows]` : '';
      ctx.io.stderr(
        `  ${statusWord(model).padEnd(5)} ${kindOf(model)} ${model.model}${rows} in ${seconds(model.seconds)}`,
      );
    });
    const disposeSignals = onStopSignal(ctx, () => void engine.close());
    let result: TransformRunResult;
    try {
      result = await engine.transformNow({
        trigger: 'cli',
        ...(select.length ? { select } : {}),
        ...(exclude.length ? { exclude } : {}),
        ...(o.fullRefresh ? { fullRefresh: true } : {}),
        ...(vars ? { vars } : {}),
        dbt: run.options,
      });
    } finally {
      off();
      disposeSignals();
    }
    const a = run.artifacts();
    const projectError = result.models.find((m) => m.uniqueId === '(project)' || m.uniqueId === '(engine)');
    if (projectError || !a) {
      if (ctx.isJson) ctx.io.stdout(JSON.stringify(result, null, 2));
      else
        ctx.io.stderr(
          `error: ${projectError?.error?.message ?? result.warnings[0] ?? 'the project could not be parsed'}`,
        );
      return DBT_EXIT.error;
    }
    if (projectDir) writeManifest(projectDir, a);
    if (command === 'ls') {
      for (const line of listNodes(a, o.output)) ctx.io.stdout(line);
      return DBT_EXIT.ok;
    }
    if (command === 'docs generate') {
      const { catalog, file } = await generateCatalog(a, url, ctx.logger, projectDir);
      if (file) ctx.say(`Catalog written to ${file}`);
      else ctx.io.stdout(JSON.stringify(catalog, null, 2));
      return DBT_EXIT.ok;
    }
    if (command === 'source freshness') {
      const rows = await sourceFreshness(a, url, ctx.logger, projectDir);
      if (!rows.length) ctx.say('No source in the selection has a freshness: block with a loaded_at_field.');
      else
        ctx.say(
          table(
            ['SOURCE', 'STATUS', 'MAX LOADED AT', 'AGE'],
            rows.map((r) =>
              r.status === 'runtime error'
                ? [r.source, 'ERROR', '-', r.error ?? '']
                : [
                    r.source,
                    r.status.toUpperCase(),
                    r.maxLoadedAt ?? '-',
                    r.ageSeconds === null ? '-' : seconds(r.ageSeconds),
                  ],
            ),
            ['l', 'l', 'l', 'r'],
          ),
        );
      return rows.some((r) => r.status === 'error' || r.status === 'runtime error') ? DBT_EXIT.failed : DBT_EXIT.ok;
    }
    if (projectDir) {
      writeRunResults(projectDir, a, {
        command,
        select,
        exclude,
        fullRefresh: o.fullRefresh === true,
        vars,
        target,
      });
      if (command === 'compile') {
        const compiled = writeCompiledSql(projectDir, a);
        ctx.say(`Compiled ${compiled.nodes} nodes into ${compiled.dir}`);
      }
    }
    if (command === 'compile' && !ctx.isJson) {
      const sql = singleCompiledSql(a);
      if (sql !== undefined) ctx.io.stdout(sql);
    }
    if (ctx.isJson) ctx.io.stdout(JSON.stringify(result, null, 2));
    else {
      ctx.say(`\nFinished in ${seconds((performance.now() - t0) / 1000)}.`);
      ctx.say(dbtSummary(result));
    }
    return exitCodeOf(result);
  } finally {
    await engine.close();
  }
}

async function dbtDebug(
  ctx: CliContext,
  postgres: { kind: 'embedded' } | { kind: 'external'; url: string },
  target: DbtTarget | null,
  projectDir: string | null,
): Promise<number> {
  let ok = true;
  ctx.io.stdout(`cht-sync dbt (dbt-compatible engine, dbt ${'1.10'} semantics)`);
  ctx.io.stdout(
    `project: ${projectDir ? `${projectDir} [${isDbtProjectDir(projectDir) ? 'OK found' : 'ERROR not found'}]` : '(cht-sync’s configured project)'}`,
  );
  ctx.io.stdout(
    target
      ? `profiles.yml: ${target.file} [OK found]\n  profile: ${target.profile}, target: ${target.target}\n  host: ${target.host}, port: ${target.port}, user: ${target.user}, database: ${target.dbname}, schema: ${target.schema}`
      : 'profiles.yml: none; using cht-sync’s PostgreSQL settings',
  );
  if (postgres.kind === 'external') {
    const check = await checkConnection(postgres.url, ctx.logger);
    ok = check.ok;
    ctx.io.stdout(
      check.ok
        ? `Connection test: ${safeUrl(postgres.url)} [OK connection ok]`
        : `Connection test: ${safeUrl(postgres.url)} [ERROR] ${check.message}`,
    );
  } else ctx.io.stdout('Connection: the embedded PostgreSQL (started on demand)');
  ctx.io.stdout(ok ? 'All checks passed!' : '1 check failed.');
  return ok ? DBT_EXIT.ok : DBT_EXIT.failed;
}

async function dbtRunOperation(
  ctx: CliContext,
  engine: CliEngine,
  url: string,
  macro: string | undefined,
  o: DbtOptions,
  vars: Record<string, unknown> | undefined,
  target: DbtTarget | null,
): Promise<number> {
  if (!macro)
    throw new EngineError(
      'CONFIG_INVALID',
      'run-operation needs a macro name: cht-sync dbt run-operation <macro> [--args "{key: value}"].',
    );
  let args: Record<string, unknown> = {};
  if (o.args) {
    const parsed = YAML.parse(o.args) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new EngineError('CONFIG_INVALID', `--args must be a YAML mapping like '{table: orders}'.`);
    args = parsed as Record<string, unknown>;
  }
  const parse = prepareDbtRun('run-operation', {}, target);
  const result = await engine.transformNow({ trigger: 'cli', ...(vars ? { vars } : {}), dbt: parse.options });
  const a = parse.artifacts();
  if (!a) {
    ctx.io.stderr(
      `error: ${result.models[0]?.error?.message ?? result.warnings[0] ?? 'the project could not be parsed'}`,
    );
    return DBT_EXIT.error;
  }
  const outcome = await runOperation(a, url, ctx.logger, macro, args);
  if (outcome.status === 'no-macro') {
    ctx.io.stderr(`error: no macro named ${macro} in the project or its packages.`);
    return DBT_EXIT.error;
  }
  if (outcome.status === 'failed') {
    ctx.io.stderr(`error: run-operation ${macro} failed: ${outcome.message}`);
    return DBT_EXIT.failed;
  }
  if (outcome.output && !ctx.isJson) ctx.io.stdout(outcome.output);
  return DBT_EXIT.ok;
}
