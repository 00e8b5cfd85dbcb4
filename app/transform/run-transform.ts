import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import type { ModelRunResult, PipelineSetting, TransformRunResult } from '../contract/dto';
import { EngineError, toWireError } from '../core/engine-error';
import type { Logger } from '../core/logger';
import { TimeSlicer } from '../core/time-slicer';
import { computeFingerprints } from './compile/fingerprint';
import { ProjectCompiler } from './compile/project-compiler';
import type { TargetInfo } from './context/dbt-context';
import type { Relation } from './context/relation';
import { ancestors, buildGraph, type ModelGraph } from './graph/build-graph';
import { selectModels } from './graph/select';
import type { ModelNode, ResourceType } from './graph/types';
import { runTest, type TestOutcome } from './run/test-exec';
import { runUnitTest } from './run/unit-test';
import { describeTest } from './run/describe';
import { ensureSchema, getRelation, serverVersionNum } from './materialize/catalog';
import { materialize } from './materialize/materialize';
import { wrapClient, type PgSession } from './materialize/pg-session';
import { loadProject, type ProjectSource } from './project/load-project';
import { modelLockKey, takeTurn, type Turn } from './run/coordination';
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
  /** Which kinds of node run (default: models only — the daemon's `transform`). */
  resourceTypes?: ResourceType[];
  /** `build`: tests gate their descendants, unit tests gate their model (dbt's build graph). */
  build?: boolean;
  /** dbt's --indirect-selection (default eager). */
  indirectSelection?: 'eager' | 'cautious' | 'buildable' | 'empty';
  /** Stop at the first failure; everything not yet started is skipped. */
  failFast?: boolean;
  /** The target as a dbt profile names it (target.name, user, host …), when run from profiles.yml. */
  target?: Partial<TargetInfo>;
  /** Compile only (dbt compile): render every selected node, run nothing. */
  compileOnly?: boolean;
  /** Parse and select only (dbt ls, docs generate, run-operation): nothing is compiled or run. */
  parseOnly?: boolean;
  /** Receives the parsed graph and the run's per-node details (for target/ artifacts). */
  onArtifacts?: (a: RunArtifacts) => void;
  /**
   * The daemon's runs: skip the run when the last complete run of the same selection (by any
   * process) already covered every row in the raw tables (see run/coordination.ts). Not with a
   * `batch_size` var: a run then takes one batch, never every row.
   */
  coalesce?: boolean;
}

/** The warning of a run that had nothing to do because another run had already done it. */
export const COALESCED_WARNING =
  'Coalesced: the models already hold every row landed so far (a run by this or another cht-sync service covered them); nothing was run.';

/** What `dbt`-style artifacts are written from. */
export interface RunArtifacts {
  compiler: ProjectCompiler;
  graph: ModelGraph;
  selected: string[];
  invocationId: string;
  generatedAt: string;
  results: NodeResultDetail[];
  compiled: Map<string, string>;
  elapsed: number;
}

export interface NodeResultDetail {
  uniqueId: string;
  status: string;
  message: string | null;
  failures: number | null;
  rowsAffected: number | null;
  seconds: number;
  timing: { name: string; started_at: string; completed_at: string }[];
  relationName: string | null;
  compiledSql: string | null;
}

export interface TransformOutcome {
  result: Omit<TransformRunResult, 'runId'>;
  fingerprints: Map<string, string>;
}

/** resources/pipeline, found from the package root (works from sources and from dist/). */
export function bundledPipelinePath(): string {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'resources')))
      return path.join(dir, 'resources', 'pipeline');
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
  const opts =
    (o.pool as unknown as { options?: { connectionString?: string; host?: string; port?: number; user?: string } })
      .options ?? {};
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
  return {
    name: 'default',
    schema: o.schema,
    database: o.database,
    type: 'postgres',
    threads,
    user,
    host,
    port,
    dbname: o.database,
    ...o.target,
  };
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
  return Math.round(performance.now() - t0) / 1000;
}

/** Runs the project; never throws: anything unexpected becomes a failed run with its reason. */
export async function runTransform(o: TransformOptions): Promise<TransformOutcome> {
  const startedAt = new Date().toISOString();
  let turn: Turn | null = null;
  try {
    return await runTransformInner(o, (t) => (turn = t));
  } catch (error) {
    const wire = toWireError(error);
    o.logger.error('transform failed unexpectedly', { error: wire.message });
    return {
      result: {
        outcome: 'failed',
        startedAt,
        finishedAt: new Date().toISOString(),
        project: projectSource(o.project).label,
        models: [
          {
            model: '(engine)',
            uniqueId: '(engine)',
            materialized: '',
            status: 'error',
            rowsAffected: null,
            seconds: 0,
            error: wire,
          },
        ],
        warnings: [wire.message],
      },
      fingerprints: new Map(o.previousFingerprints ?? []),
    };
  } finally {
    await (turn as Turn | null)?.release();
  }
}

async function runTransformInner(o: TransformOptions, onTurn: (turn: Turn) => void): Promise<TransformOutcome> {
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
  const invocationId = randomUUID();
  const tStart = performance.now();
  const details: NodeResultDetail[] = [];
  const compiled = new Map<string, string>();
  let compiler: ProjectCompiler;
  let graph: ModelGraph;
  let selected: string[];
  // Loading, parsing and compiling the project is CPU work on the caller's event loop (Electron's
  // main process): it yields between files, macro files and nodes, every few milliseconds.
  const slicer = new TimeSlicer();
  try {
    const t0 = performance.now();
    const project = await loadProject(source, {
      cacheDir: o.cacheDir,
      logger: o.logger,
      slicer,
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.refreshProject ? { refresh: true } : {}),
    });
    warnings.push(...project.warnings);
    const tLoad = performance.now();
    const target = targetInfo(o, threads);
    compiler = await ProjectCompiler.create({
      project,
      slicer,
      target,
      env: templateEnv(o, target),
      cliVars: o.vars ?? {},
      invocationId,
      runStartedAt: startedAt,
      fullRefresh: o.fullRefresh === true,
      logger: o.logger,
    });
    const types = o.resourceTypes ?? ['model'];
    // Seeds and snapshots are always known (a model may ref them); tests only when they may run.
    const nodes = await compiler.parseAll(types.some((t) => t === 'test' || t === 'unit_test'));
    warnings.push(...compiler.warnings.splice(0));
    // dbt's parse/run split: the whole project parses before anything runs, and a parse error
    // (Jinja syntax, an undeclared source, a config dbt refuses) stops the invocation. Every
    // such error is reported (not only the first), each naming its file and line.
    const unparsed = nodes.filter((n) => n.config.enabled !== false && n.parseError);
    if (unparsed.length) {
      for (const n of unparsed) {
        const wire = toWireError(n.parseError);
        if (!wire.details || !('model' in wire.details))
          wire.details = { ...wire.details, model: n.name, file: `${n.packageName}/${n.file}` };
        models.push({
          model: n.name,
          uniqueId: `${n.packageName}.${n.name}`,
          materialized: n.materialized,
          status: 'error',
          rowsAffected: null,
          seconds: 0,
          error: wire as ModelRunResult['error'] & object,
        });
      }
      const msg = `Nothing ran: ${unparsed.length} model${unparsed.length === 1 ? '' : 's'} of the project could not be parsed (${unparsed.map((n) => n.name).join(', ')}). Like dbt, a parse error stops the whole run; fix ${unparsed.length === 1 ? 'it' : 'them'} and run again.`;
      warnings.push(msg);
      o.logger.error('dbt project did not parse', { models: unparsed.map((n) => n.name) });
      return finish('failed');
    }
    await slicer.tick();
    graph = buildGraph(nodes.filter((n) => n.config.enabled !== false));
    await slicer.tick();
    computeFingerprints(graph);
    await slicer.tick();
    selected = selectModels(graph, {
      ...(o.select ? { select: o.select } : {}),
      ...(o.exclude ? { exclude: o.exclude } : {}),
      selectors: project.selectors,
      ...(o.previousFingerprints ? { previousFingerprints: o.previousFingerprints } : {}),
      resourceTypes: types,
      ...(o.indirectSelection ? { indirectSelection: o.indirectSelection } : {}),
      onNoMatch: (c) => warnings.push(`The selection criterion '${c}' does not match any enabled nodes.`),
    });
    compiler.selectedResources.push(...selected);
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
    models.push({
      model: '(project)',
      uniqueId: '(project)',
      materialized: '',
      status: 'error',
      rowsAffected: null,
      seconds: 0,
      error: wire,
    });
    return finish('failed');
  }
  const emitArtifacts = (): void => {
    o.onArtifacts?.({
      compiler,
      graph,
      selected,
      invocationId,
      generatedAt: new Date().toISOString(),
      results: details,
      compiled,
      elapsed: (performance.now() - tStart) / 1000,
    });
  };
  if (o.parseOnly) {
    emitArtifacts();
    return finish('done');
  }
  if (!selected.length) {
    warnings.push(
      `No ${(o.resourceTypes ?? ['model']).length > 1 ? 'node' : 'model'} matches the selection${o.select?.length ? ` --select ${o.select.join(' ')}` : ''}${o.exclude?.length ? ` --exclude ${o.exclude.join(' ')}` : ''}.`,
    );
    emitArtifacts();
    return finish('done');
  }

  // Other cht-sync services may run these models on this schema too: take turns, and skip a
  // daemon run whose rows an earlier run (of any of them) already covered (run/coordination.ts).
  let turn: Turn | null = null;
  if (!o.compileOnly) {
    // A `batch_size` var (cht-sync's DBT_BATCH_SIZE) makes each run take one batch of the new rows:
    // such a run does not bring the models up to every row landed, so it is never coalesced and
    // records no coverage (the next run has the rest to do).
    const isBatched = selected.some((id) => {
      const v = compiler.varsFor(graph.nodes.get(id)!.packageName).batch_size;
      return v !== undefined && v !== null;
    });
    turn = await takeTurn(o.pool, {
      database: o.database,
      schema: o.schema,
      table: o.table,
      project: compiler.o.project.root.name,
      coalesce: o.coalesce === true && !isBatched,
      selection: {
        models: selected.map((id) => [id, graph.nodes.get(id)!.fingerprint]),
        vars: o.vars ?? {},
        ...(o.select ? { select: o.select } : {}),
        ...(o.exclude ? { exclude: o.exclude } : {}),
      },
      logger: o.logger,
      ...(o.signal ? { signal: o.signal } : {}),
    });
    onTurn(turn);
    if (turn.kind === 'cancelled') return finish('cancelled');
    if (turn.kind === 'coalesced') {
      warnings.push(COALESCED_WARNING);
      return finish('done');
    }
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
      warnings.push(
        `Model ${n.name} changed since its last build but has full_refresh: false, so it is not rebuilt; new rows use the new logic, old rows keep the old.`,
      );
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
  const status = new Map<string, string>();
  const isOk = (st: string | undefined): boolean => st === 'success' || st === 'pass' || st === 'warn';
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
          const sql = (
            await compiler.renderString(hooks[i]!, `${pkg.name}/dbt_project.yml:${name}`, ctx, {
              file: `${pkg.name}/dbt_project.yml`,
            })
          ).trim();
          const started = new Date(Date.now() - (performance.now() - t0)).toISOString();
          if (sql) await lease.session.script(sql);
          lease.release(false);
          // dbt lists project hooks in run_results.json (operation.<package>.<package>-on-run-end-<n>).
          details.push({
            uniqueId: `operation.${pkg.name}.${name}`,
            status: 'success',
            message: null,
            failures: null,
            rowsAffected: null,
            seconds: elapsed(t0),
            timing: [{ name: 'execute', started_at: started, completed_at: new Date().toISOString() }],
            relationName: null,
            compiledSql: sql,
          });
        } catch (error) {
          lease?.release(true);
          ok = false;
          const wire = toWireError(
            error instanceof EngineError
              ? error
              : new EngineError('MODEL_RUN', `The ${name} hook failed: ${(error as Error).message}`, {
                  cause: error,
                  details: { file: `${pkg.name}/dbt_project.yml` },
                }),
          );
          const m: ModelRunResult = {
            model: name,
            uniqueId: `operation.${pkg.name}.${name}`,
            materialized: 'hook',
            status: 'error',
            rowsAffected: null,
            seconds: elapsed(t0),
            error: wire,
          };
          models.push(m);
          details.push({
            uniqueId: m.uniqueId,
            status: 'error',
            message: wire.message,
            failures: null,
            rowsAffected: null,
            seconds: m.seconds,
            timing: [],
            relationName: null,
            compiledSql: null,
          });
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
    const wire = toWireError(
      new EngineError(
        'PG_UNREACHABLE',
        `PostgreSQL could not be reached to run the models: ${(error as Error).message}`,
        { retryable: true, cause: error },
      ),
    );
    warnings.push(wire.message);
    for (const id of selected) {
      const n = graph.nodes.get(id)!;
      if (n.materialized === 'ephemeral') continue;
      models.push({
        model: n.name,
        uniqueId: `${n.packageName}.${n.name}`,
        materialized: n.materialized,
        status: 'error',
        rowsAffected: null,
        seconds: 0,
        error: wire,
      });
    }
    return finish('failed');
  }

  // dbt creates the schemas of every selected node before on-run-start.
  if (!o.compileOnly) {
    try {
      const lease = await acquire();
      try {
        for (const id of selected) {
          const n = graph.nodes.get(id)!;
          const t = n.resourceType ?? 'model';
          if (t === 'test' || t === 'unit_test' || n.materialized === 'ephemeral') continue;
          const schema = compiler.relationFor(n).schema;
          if (schema && !schemas.has(schema)) schemas.set(schema, ensureSchema(lease.session, schema));
        }
        await Promise.all(schemas.values());
      } finally {
        lease.release(false);
      }
    } catch (error) {
      o.logger.warn('schemas could not be created before the run', { error: (error as Error).message });
      schemas.clear();
    }
  }
  const hooksStartOk = o.compileOnly ? true : await runProjectHooks('onRunStart');

  const record = (
    n: ModelNode,
    result: ModelRunResult,
    d: Omit<NodeResultDetail, 'uniqueId' | 'status' | 'seconds'>,
    runResult: Record<string, unknown>,
  ): void => {
    models.push(result);
    details.push({ uniqueId: n.uniqueId, status: result.status, seconds: result.seconds, ...d });
    runResults.push(runResult);
    o.onModelFinished?.(result);
  };

  const runNode = async (n: ModelNode): Promise<void> => {
    const kind = n.resourceType ?? 'model';
    const t0 = performance.now();
    const relation: Relation = compiler.relationFor(n);
    const refreshReason = refreshReasons.get(n.uniqueId);
    const fullRefresh =
      n.config.full_refresh === false
        ? false
        : o.fullRefresh === true || refreshReason !== undefined || n.config.full_refresh === true;
    const base: Pick<ModelRunResult, 'model' | 'uniqueId' | 'materialized'> & {
      resourceType?: ModelRunResult['resourceType'];
    } = {
      model: n.name,
      uniqueId: `${n.packageName}.${n.name}`,
      materialized: n.materialized,
      ...(kind !== 'model' ? { resourceType: kind as ModelRunResult['resourceType'] } : {}),
    };
    const compileStarted = new Date().toISOString();
    let compileDone: string | null = null;
    let executeStarted: string | null = null;
    let lease: Awaited<ReturnType<typeof acquire>> | null = null;
    let modelLock: string | null = null;
    let result: ModelRunResult;
    let compiledSql: string | null = null;
    let test: TestOutcome | null = null;
    try {
      lease = await acquire();
      const session = lease.session;
      if (kind === 'test' || kind === 'unit_test') {
        if (o.compileOnly && kind === 'test') {
          const { compileTest } = await import('./run/test-exec');
          compiledSql = await compileTest(compiler, n, session);
        } else if (!o.compileOnly) {
          executeStarted = new Date().toISOString();
          const model = kind === 'unit_test' ? graph.nodes.get(n.test!.attachedNode!) : undefined;
          test =
            kind === 'unit_test'
              ? await runUnitTest(compiler, n, model!, session)
              : await runTest(compiler, n, session);
          compiledSql = test.sql;
        }
        compileDone = new Date().toISOString();
        lease.release(false);
        lease = null;
        const desc = describeTest(n, graph);
        result = test
          ? {
              ...base,
              status: test.status,
              rowsAffected: null,
              seconds: elapsed(t0),
              description: desc,
              failures: test.failures,
              ...(test.message ? { message: test.message } : {}),
              ...(test.status !== 'pass'
                ? { failingRows: test.sample, failingSql: test.storedIn ? `select * from ${test.storedIn}` : test.sql }
                : {}),
            }
          : { ...base, status: 'success', rowsAffected: null, seconds: elapsed(t0), description: desc };
        status.set(n.uniqueId, result.status);
      } else {
        if (!o.compileOnly) {
          // One build of a relation at a time across processes (released below, or with the connection).
          modelLock = modelLockKey(relation.database ?? o.database, relation.schema ?? o.schema, relation.identifier);
          await session.query('select pg_advisory_lock(hashtext($1))', [modelLock]);
        }
        if (relation.schema && !o.compileOnly) {
          let p = schemas.get(relation.schema);
          if (!p) {
            p = ensureSchema(session, relation.schema);
            schemas.set(relation.schema, p);
          }
          await p;
        }
        const existing = await getRelation(
          session,
          relation.database ?? o.database,
          relation.schema ?? o.schema,
          relation.identifier,
        );
        const isIncremental = existing?.type === 'table' && n.materialized === 'incremental' && !fullRefresh;
        const { sql, ctx } =
          kind === 'seed'
            ? {
                sql: '',
                ctx: compiler.runContext({ node: n, session, relation, isIncremental: false, fullRefresh }, new Set()),
              }
            : await compiler.compile({ node: n, session, relation, isIncremental, fullRefresh });
        compiledSql = kind === 'seed' ? null : sql;
        compileDone = new Date().toISOString();
        executeStarted = compileDone;
        const where = { model: n.name, file: `${n.packageName}/${n.file}` };
        let rows: number | null = null;
        if (!o.compileOnly) {
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
            description: n.description ?? '',
            rawSql: n.rawSql,
            preHooks: parseHooks(n.config.pre_hook),
            postHooks: parseHooks(n.config.post_hook),
            render: (tpl) => compiler.renderString(tpl, `${n.packageName}/${n.file}:hook`, ctx, where),
            logger: o.logger.child({ model: n.name }),
            pgVersion,
            ...(n.csv !== undefined ? { csv: n.csv } : {}),
          });
          warnings.push(...out.warnings);
          rows = out.rowsAffected;
        }
        if (modelLock) await session.query('select pg_advisory_unlock(hashtext($1))', [modelLock]);
        lease.release(false);
        lease = null;
        result = {
          ...base,
          status: 'success',
          rowsAffected: rows,
          seconds: elapsed(t0),
          ...(refreshReason ? { refreshReason } : {}),
        };
        if (!o.compileOnly) fingerprints.set(n.uniqueId, n.fingerprint);
        status.set(n.uniqueId, 'success');
      }
    } catch (error) {
      lease?.release(true);
      const wire = toWireError(error);
      if (!wire.details || !('model' in wire.details))
        wire.details = { ...wire.details, model: n.name, file: `${n.packageName}/${n.file}` };
      result = {
        ...base,
        status: 'error',
        rowsAffected: null,
        seconds: elapsed(t0),
        error: wire as ModelRunResult['error'] & object,
      };
      if (kind === 'test' || kind === 'unit_test') result.description = describeTest(n, graph);
      status.set(n.uniqueId, 'error');
      o.logger.error(`${kind === 'model' ? 'model' : kind.replace('_', ' ')} failed`, {
        model: n.name,
        error: wire.message,
      });
    }
    if (compiledSql !== null) compiled.set(n.uniqueId, compiledSql);
    const executeDone = new Date().toISOString();
    const message = result.error?.message ?? result.message ?? null;
    record(
      n,
      result,
      {
        message,
        failures: test ? test.failures : null,
        rowsAffected: result.rowsAffected,
        timing: [
          ...(compileDone ? [{ name: 'compile', started_at: compileStarted, completed_at: compileDone }] : []),
          ...(executeStarted ? [{ name: 'execute', started_at: executeStarted, completed_at: executeDone }] : []),
        ],
        relationName: kind === 'test' || kind === 'unit_test' ? null : relation.render(),
        compiledSql,
      },
      toRunResult({
        node: n,
        relation,
        status: result.status,
        message,
        rowsAffected: result.rowsAffected,
        failures: test ? test.failures : null,
        compileStarted,
        compileDone,
        executeStarted,
        executeDone,
        seconds: result.seconds,
        threadId: 'Thread-1',
      }),
    );
  };

  // What each node waits for: its selected parents; with `build`, also the tests of its
  // upstream nodes (dbt's add_test_edges) and, for a model, its unit tests.
  const selectedSet = new Set(selected);
  const waitsOn = new Map<string, string[]>();
  for (const id of selected)
    waitsOn.set(
      id,
      graph.nodes.get(id)!.dependsOn.filter((p) => selectedSet.has(p)),
    );
  if (o.build) {
    const testsOf = new Map<string, string[]>();
    for (const id of selected) {
      const t = graph.nodes.get(id)!;
      if (t.resourceType !== 'test') continue;
      for (const p of t.dependsOn) testsOf.set(p, [...(testsOf.get(p) ?? []), id]);
    }
    const upstreamCache = new Map<string, Set<string>>();
    for (const id of selected) {
      const n = graph.nodes.get(id)!;
      const kind = n.resourceType ?? 'model';
      if (kind === 'test' || kind === 'unit_test') continue;
      let up = upstreamCache.get(id);
      if (!up) {
        up = ancestors(graph, id);
        upstreamCache.set(id, up);
      }
      const extra = new Set<string>();
      for (const u of up)
        for (const t of testsOf.get(u) ?? []) if (graph.nodes.get(t)!.dependsOn.every((d) => up.has(d))) extra.add(t);
      if (kind === 'model')
        for (const sid of selected)
          if (graph.nodes.get(sid)!.resourceType === 'unit_test' && graph.nodes.get(sid)!.test?.attachedNode === id)
            extra.add(sid);
      waitsOn.set(id, [...new Set([...waitsOn.get(id)!, ...extra])]);
    }
  }

  // Scheduler: a node starts when everything it waits for succeeded (a test passed or only
  // warned); a failure skips its descendants and nothing else; up to `threads` run at once.
  const pending = new Set(selected);
  const running = new Map<string, Promise<void>>();
  const skip = (id: string, because: string): void => {
    const n = graph.nodes.get(id)!;
    status.set(id, 'skipped');
    pending.delete(id);
    if (n.materialized === 'ephemeral') return;
    const kind = n.resourceType ?? 'model';
    const m: ModelRunResult = {
      model: n.name,
      uniqueId: `${n.packageName}.${n.name}`,
      materialized: n.materialized,
      status: 'skipped',
      rowsAffected: null,
      seconds: 0,
      skippedBecause: because,
      ...(kind !== 'model' ? { resourceType: kind as ModelRunResult['resourceType'] } : {}),
    };
    if (kind === 'test' || kind === 'unit_test') m.description = describeTest(n, graph);
    const message = `skipped because ${because} failed`;
    record(
      n,
      m,
      { message, failures: null, rowsAffected: null, timing: [], relationName: null, compiledSql: null },
      toRunResult({
        node: n,
        relation: compiler.relationFor(n),
        status: 'skipped',
        message,
        rowsAffected: null,
        failures: null,
        compileStarted: null,
        compileDone: null,
        executeStarted: null,
        executeDone: null,
        seconds: 0,
        threadId: 'Thread-1',
      }),
    );
  };
  let cancelled = false;
  let failedFast = false;
  while (pending.size || running.size) {
    if (o.signal?.aborted && !cancelled) {
      cancelled = true;
      for (const id of [...pending]) skip(id, 'the run was cancelled');
    }
    if (o.failFast && !failedFast && [...status.values()].some((st) => st === 'error' || st === 'fail')) {
      failedFast = true;
      for (const id of [...pending]) skip(id, 'an earlier node (--fail-fast)');
    }
    let started = false;
    for (const id of graph.order) {
      if (!pending.has(id) || running.size >= threads) continue;
      const n = graph.nodes.get(id)!;
      const parents = waitsOn.get(id) ?? [];
      const bad = parents.find((p) => status.has(p) && !isOk(status.get(p)) && status.get(p) !== 'running');
      if (bad) {
        const root = failedRoot.get(bad) ?? graph.nodes.get(bad)!.name;
        failedRoot.set(id, root);
        skip(id, root);
        started = true;
        continue;
      }
      if (!parents.every((p) => isOk(status.get(p)))) continue;
      pending.delete(id);
      if (n.materialized === 'ephemeral') {
        status.set(id, 'success');
        fingerprints.set(id, n.fingerprint);
        started = true;
        continue;
      }
      status.set(id, 'running');
      const p = runNode(n).finally(() => running.delete(id));
      running.set(id, p);
      started = true;
    }
    if (running.size) await Promise.race(running.values());
    else if (!started && pending.size) {
      // Unreachable with a valid DAG; guard against a silent hang.
      for (const id of [...pending]) skip(id, 'an unresolved dependency');
    }
  }

  const hooksEndOk = o.compileOnly ? true : await runProjectHooks('onRunEnd');
  // exceptions.warn() calls made while compiling and in hooks.
  warnings.push(...compiler.warnings.splice(0));
  emitArtifacts();
  const errors = models.filter((m) => m.status === 'error' || m.status === 'fail').length;
  const successes = models.filter((m) => m.status === 'success' || m.status === 'pass' || m.status === 'warn').length;
  if (cancelled) return finish('cancelled');
  if (!errors && hooksStartOk && hooksEndOk) {
    await turn?.covered();
    return finish('done');
  }
  return finish(successes ? 'partial' : 'failed');
}
