import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import type { ModelRunResult, PipelineSetting, TransformRunResult } from '../contract/dto';
import { EngineError, toWireError } from '../core/engine-error';
import type { Logger } from '../core/logger';
import { computeFingerprints } from './compile/fingerprint';
import { ProjectCompiler } from './compile/project-compiler';
import type { TargetInfo } from './context/dbt-context';
import type { Relation } from './context/relation';
import { buildGraph, type ModelGraph } from './graph/build-graph';
import { selectModels } from './graph/select';
import type { ModelNode } from './graph/types';
import { ensureSchema, getRelation, serverVersionNum } from './materialize/catalog';
import { materialize } from './materialize/materialize';
import { wrapClient, type PgSession } from './materialize/pg-session';
import { loadProject, type ProjectSource } from './project/load-project';
import { parseHooks } from './run/hooks';
import { toRunResult } from './run/run-result';

export interface TransformOptions {
  project: PipelineSetting | { kind: 'path'; path: string };
  cacheDir: string;
  pool: pg.Pool;
  database: string;
  schema: string;
  table: string;
  select?: string[];
  exclude?: string[];
  fullRefresh?: boolean;
  vars?: Record<string, unknown>;
  threads?: number;
  previousFingerprints?: Map<string, string>;
  env?: Record<string, string>;
  /** Download git/tarball/hub sources again even when cached (an explicit "update project"). */
  refreshProject?: boolean;
  logger: Logger;
  signal?: AbortSignal;
  onModelFinished?: (m: ModelRunResult) => void;
}

export interface TransformOutcome {
  result: Omit<TransformRunResult, 'runId'>;
  fingerprints: Map<string, string>;
}

/** resources/pipeline, found from the package root (works from sources and from dist/). */
export function bundledPipelinePath(): string {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'resources'))) return path.join(dir, 'resources', 'pipeline');
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return path.resolve(process.cwd(), 'resources', 'pipeline');
}

function projectSource(p: TransformOptions['project']): { source: ProjectSource; label: string } {
  switch (p.kind) {
    case 'bundled':
      return { source: { kind: 'path', path: bundledPipelinePath() }, label: 'bundled' };
    case 'folder':
    case 'path':
      return { source: { kind: 'path', path: p.path }, label: p.path };
    case 'git':
      return { source: { kind: 'git', url: p.url }, label: p.url };
  }
}

function targetInfo(o: TransformOptions, threads: number): TargetInfo {
  const opts = (o.pool as unknown as { options?: { connectionString?: string; host?: string; port?: number; user?: string } }).options ?? {};
  let host = opts.host ?? 'localhost';
  let port = opts.port ?? 5432;
  let user = opts.user ?? 'postgres';
  if (opts.connectionString) {
    try {
      const u = new URL(opts.connectionString);
      host = u.hostname || host;
      port = u.port ? Number(u.port) : port;
      user = decodeURIComponent(u.username) || user;
    } catch {
      // keep defaults
    }
  }
  return { name: 'default', schema: o.schema, database: o.database, type: 'postgres', threads, user, host, port, dbname: o.database };
}

/** env_var() sees the process environment, then cht-sync's variables derived from our configuration. */
function templateEnv(o: TransformOptions, t: TargetInfo): Record<string, string> {
  const derived: Record<string, string> = {
    POSTGRES_DB: o.database,
    POSTGRES_SCHEMA: o.schema,
    POSTGRES_TABLE: o.table,
    POSTGRES_HOST: t.host,
    POSTGRES_PORT: String(t.port),
    POSTGRES_USER: t.user,
    DBT_THREAD_COUNT: String(t.threads),
  };
  const env: Record<string, string> = { ...derived };
  for (const [k, v] of Object.entries(process.env)) if (typeof v === 'string') env[k] = v;
  return { ...env, ...o.env };
}

function elapsed(t0: number): number {
  return Math.round((performance.now() - t0)) / 1000;
}

/** Runs the project; never throws: anything unexpected becomes a failed run with its reason. */
export async function runTransform(o: TransformOptions): Promise<TransformOutcome> {
  const startedAt = new Date().toISOString();
  try {
    return await runTransformInner(o);
  } catch (error) {
    const wire = toWireError(error);
    o.logger.error('transform failed unexpectedly', { error: wire.message });
    return {
      result: { outcome: 'failed', startedAt, finishedAt: new Date().toISOString(), project: projectSource(o.project).label, models: [{ model: '(engine)', uniqueId: '(engine)', materialized: '', status: 'error', rowsAffected: null, seconds: 0, error: wire }], warnings: [wire.message] },
      fingerprints: new Map(o.previousFingerprints ?? []),
    };
  }
}

async function runTransformInner(o: TransformOptions): Promise<TransformOutcome> {
  const startedAt = new Date().toISOString();
  const { source, label } = projectSource(o.project);
  const warnings: string[] = [];
  const models: ModelRunResult[] = [];
  const fingerprints = new Map(o.previousFingerprints ?? []);
  const finish = (outcome: TransformRunResult['outcome']): TransformOutcome => ({
    result: { outcome, startedAt, finishedAt: new Date().toISOString(), project: label, models, warnings },
    fingerprints,
  });
  const threads = Math.max(1, Math.min(o.threads ?? 1, 16));
  let compiler: ProjectCompiler;
  let graph: ModelGraph;
  let selected: string[];
  try {
    const t0 = performance.now();
    const project = await loadProject(source, { cacheDir: o.cacheDir, logger: o.logger, ...(o.signal ? { signal: o.signal } : {}), ...(o.refreshProject ? { refresh: true } : {}) });
    warnings.push(...project.warnings);
    const tLoad = performance.now();
    const target = targetInfo(o, threads);
    compiler = new ProjectCompiler({
      project,
      target,
      env: templateEnv(o, target),
      cliVars: o.vars ?? {},
      invocationId: randomUUID(),
      runStartedAt: startedAt,
      fullRefresh: o.fullRefresh === true,
      logger: o.logger,
    });
    const nodes = await compiler.parseModels();
    warnings.push(...compiler.warnings.splice(0));
    graph = buildGraph(nodes.filter((n) => n.config.enabled !== false));
    computeFingerprints(graph);
    selected = selectModels(graph, {
      ...(o.select ? { select: o.select } : {}),
      ...(o.exclude ? { exclude: o.exclude } : {}),
      selectors: project.selectors,
      ...(o.previousFingerprints ? { previousFingerprints: o.previousFingerprints } : {}),
    });
    o.logger.info('dbt project parsed', {
      project: project.root.name,
      packages: project.packages.length,
      models: nodes.length,
      selected: selected.length,
      loadMs: Math.round(tLoad - t0),
      parseMs: Math.round(performance.now() - tLoad),
    });
  } catch (error) {
    const wire = toWireError(error);
    o.logger.error('transform could not start', { error: wire.message });
    warnings.push(wire.message);
    models.push({ model: '(project)', uniqueId: '(project)', materialized: '', status: 'error', rowsAffected: null, seconds: 0, error: wire });
    return finish('failed');
  }
  if (!selected.length) {
    warnings.push(`No model matches the selection${o.select?.length ? ` --select ${o.select.join(' ')}` : ''}${o.exclude?.length ? ` --exclude ${o.exclude.join(' ')}` : ''}.`);
    return finish('done');
  }

  // A model whose fingerprint changed since its last build is rebuilt from scratch (never
  // silently appended to with new logic); its descendants' fingerprints change with it.
  const refreshReasons = new Map<string, string>();
  for (const id of selected) {
    const n = graph.nodes.get(id)!;
    const prev = o.previousFingerprints?.get(id);
    if (prev === undefined || prev === n.fingerprint) continue;
    if (n.materialized !== 'incremental' && n.materialized !== 'materialized_view') continue;
    if (n.config.full_refresh === false) {
      warnings.push(`Model ${n.name} changed since its last build but has full_refresh: false, so it is not rebuilt; new rows use the new logic, old rows keep the old.`);
      continue;
    }
    const changedParent = n.dependsOn.find((p) => {
      const pp = o.previousFingerprints?.get(p);
      return pp !== undefined && pp !== graph.nodes.get(p)?.fingerprint;
    });
    const reason = changedParent
      ? `its parent ${graph.nodes.get(changedParent)?.name ?? changedParent} changed since the last build`
      : `its SQL or configuration changed since its last build`;
    refreshReasons.set(id, reason);
    const msg = `Model ${n.name} will be fully refreshed: ${reason}.`;
    warnings.push(msg);
    o.logger.warn(msg, { model: n.name });
  }

  let pgVersion = 0;
  const runResults: Record<string, unknown>[] = [];
  const schemas = new Map<string, Promise<void>>();
  const status = new Map<string, 'success' | 'error' | 'skipped'>();
  const failedRoot = new Map<string, string>();

  const acquire = async (): Promise<{ session: PgSession; release: (broken: boolean) => void }> => {
    const client = await o.pool.connect();
    const session = wrapClient(client, o.logger);
    return { session, release: (broken) => client.release(broken ? true : undefined) };
  };

  // Project hooks: root project first, then packages by name (dbt's order).
  const runProjectHooks = async (which: 'onRunStart' | 'onRunEnd'): Promise<boolean> => {
    let ok = true;
    for (const pkg of compiler.o.project.packages) {
      const hooks = pkg.project[which];
      for (let i = 0; i < hooks.length; i++) {
        const name = `${pkg.name}-${which === 'onRunStart' ? 'on-run-start' : 'on-run-end'}-${i}`;
        const t0 = performance.now();
        let lease: Awaited<ReturnType<typeof acquire>> | null = null;
        try {
          lease = await acquire();
          const ctx = compiler.hookContext(pkg.name, lease.session, runResults);
          const sql = (await compiler.renderString(hooks[i]!, `${pkg.name}/dbt_project.yml:${name}`, ctx, { file: `${pkg.name}/dbt_project.yml` })).trim();
          if (sql) await lease.session.script(sql);
          lease.release(false);
        } catch (error) {
          lease?.release(true);
          ok = false;
          const wire = toWireError(error instanceof EngineError ? error : new EngineError('MODEL_RUN', `The ${name} hook failed: ${(error as Error).message}`, { cause: error, details: { file: `${pkg.name}/dbt_project.yml` } }));
          const m: ModelRunResult = { model: name, uniqueId: `operation.${pkg.name}.${name}`, materialized: 'hook', status: 'error', rowsAffected: null, seconds: elapsed(t0), error: wire };
          models.push(m);
          o.onModelFinished?.(m);
          o.logger.error('project hook failed', { hook: name, error: wire.message });
        }
      }
    }
    return ok;
  };

  try {
    const lease = await acquire();
    try {
      pgVersion = await serverVersionNum(lease.session);
    } finally {
      lease.release(false);
    }
  } catch (error) {
    const wire = toWireError(new EngineError('PG_UNREACHABLE', `PostgreSQL could not be reached to run the models: ${(error as Error).message}`, { retryable: true, cause: error }));
    warnings.push(wire.message);
    for (const id of selected) {
      const n = graph.nodes.get(id)!;
      if (n.materialized === 'ephemeral') continue;
      models.push({ model: n.name, uniqueId: `${n.packageName}.${n.name}`, materialized: n.materialized, status: 'error', rowsAffected: null, seconds: 0, error: wire });
    }
    return finish('failed');
  }

  const hooksStartOk = await runProjectHooks('onRunStart');

  const runModel = async (n: ModelNode): Promise<void> => {
    const t0 = performance.now();
    const relation: Relation = compiler.relationFor(n);
    const refreshReason = refreshReasons.get(n.uniqueId);
    const fullRefresh = n.config.full_refresh === false ? false : o.fullRefresh === true || refreshReason !== undefined || n.config.full_refresh === true;
    const base = { model: n.name, uniqueId: `${n.packageName}.${n.name}`, materialized: n.materialized };
    const compileStarted = new Date().toISOString();
    let compileDone: string | null = null;
    let executeStarted: string | null = null;
    let lease: Awaited<ReturnType<typeof acquire>> | null = null;
    let result: ModelRunResult;
    try {
      if (n.parseError) throw n.parseError;
      lease = await acquire();
      const session = lease.session;
      if (relation.schema) {
        let p = schemas.get(relation.schema);
        if (!p) {
          p = ensureSchema(session, relation.schema);
          schemas.set(relation.schema, p);
        }
        await p;
      }
      const existing = await getRelation(session, relation.database ?? o.database, relation.schema ?? o.schema, relation.identifier);
      const isIncremental = existing?.type === 'table' && n.materialized === 'incremental' && !fullRefresh;
      const { sql, ctx } = await compiler.compile({ node: n, session, relation, isIncremental, fullRefresh });
      compileDone = new Date().toISOString();
      executeStarted = compileDone;
      const where = { model: n.name, file: `${n.packageName}/${n.file}` };
      const out = await materialize({
        session,
        model: n.name,
        file: `${n.packageName}/${n.file}`,
        config: n.config,
        materialized: n.materialized,
        target: relation,
        existing,
        sql,
        fullRefresh,
        columns: n.columns,
        constraints: n.constraints,
        contractEnforced: n.contractEnforced,
        preHooks: parseHooks(n.config.pre_hook),
        postHooks: parseHooks(n.config.post_hook),
        render: (tpl) => compiler.renderString(tpl, `${n.packageName}/${n.file}:hook`, ctx, where),
        logger: o.logger.child({ model: n.name }),
        pgVersion,
      });
      warnings.push(...out.warnings);
      lease.release(false);
      lease = null;
      result = { ...base, status: 'success', rowsAffected: out.rowsAffected, seconds: elapsed(t0), ...(refreshReason ? { refreshReason } : {}) };
      fingerprints.set(n.uniqueId, n.fingerprint);
      status.set(n.uniqueId, 'success');
    } catch (error) {
      lease?.release(true);
      const wire = toWireError(error);
      if (!wire.details || !('model' in wire.details)) wire.details = { ...wire.details, model: n.name, file: `${n.packageName}/${n.file}` };
      result = { ...base, status: 'error', rowsAffected: null, seconds: elapsed(t0), error: wire as ModelRunResult['error'] & object };
      status.set(n.uniqueId, 'error');
      o.logger.error('model failed', { model: n.name, error: wire.message });
    }
    models.push(result);
    runResults.push(
      toRunResult({
        node: n,
        relation,
        status: result.status === 'success' ? 'success' : 'error',
        message: result.error?.message ?? null,
        rowsAffected: result.rowsAffected,
        compileStarted,
        compileDone,
        executeStarted,
        executeDone: new Date().toISOString(),
        seconds: result.seconds,
        threadId: 'Thread-1',
      }),
    );
    o.onModelFinished?.(result);
  };

  // Scheduler: a model starts when all its selected parents succeeded; a failure skips its
  // descendants and nothing else; up to `threads` models run at once.
  const selectedSet = new Set(selected);
  const pending = new Set(selected);
  const running = new Map<string, Promise<void>>();
  const skip = (id: string, because: string): void => {
    const n = graph.nodes.get(id)!;
    status.set(id, 'skipped');
    pending.delete(id);
    if (n.materialized === 'ephemeral') return;
    const m: ModelRunResult = { model: n.name, uniqueId: `${n.packageName}.${n.name}`, materialized: n.materialized, status: 'skipped', rowsAffected: null, seconds: 0, skippedBecause: because };
    models.push(m);
    runResults.push(toRunResult({ node: n, relation: compiler.relationFor(n), status: 'skipped', message: `skipped because ${because} failed`, rowsAffected: null, compileStarted: null, compileDone: null, executeStarted: null, executeDone: null, seconds: 0, threadId: 'Thread-1' }));
    o.onModelFinished?.(m);
  };
  let cancelled = false;
  while (pending.size || running.size) {
    if (o.signal?.aborted && !cancelled) {
      cancelled = true;
      for (const id of [...pending]) skip(id, 'the run was cancelled');
    }
    let started = false;
    for (const id of graph.order) {
      if (!pending.has(id) || running.size >= threads) continue;
      const n = graph.nodes.get(id)!;
      const parents = n.dependsOn.filter((p) => selectedSet.has(p));
      const bad = parents.find((p) => status.get(p) === 'error' || status.get(p) === 'skipped');
      if (bad) {
        const root = failedRoot.get(bad) ?? graph.nodes.get(bad)!.name;
        failedRoot.set(id, root);
        skip(id, root);
        started = true;
        continue;
      }
      if (!parents.every((p) => status.get(p) === 'success')) continue;
      pending.delete(id);
      if (n.materialized === 'ephemeral') {
        status.set(id, 'success');
        fingerprints.set(id, n.fingerprint);
        started = true;
        continue;
      }
      const p = runModel(n).finally(() => running.delete(id));
      running.set(id, p);
      started = true;
    }
    if (running.size) await Promise.race(running.values());
    else if (!started && pending.size) {
      // Unreachable with a valid DAG; guard against a silent hang.
      for (const id of [...pending]) skip(id, 'an unresolved dependency');
    }
  }

  const hooksEndOk = await runProjectHooks('onRunEnd');
  // exceptions.warn() calls made while compiling and in hooks.
  warnings.push(...compiler.warnings.splice(0));
  const errors = models.filter((m) => m.status === 'error').length;
  const successes = models.filter((m) => m.status === 'success').length;
  if (cancelled) return finish('cancelled');
  if (!errors && hooksStartOk && hooksEndOk) return finish('done');
  return finish(successes ? 'partial' : 'failed');
}
