import YAML from 'yaml';
import type { ErrorCode } from '../../contract/errors';
import { EngineError } from '../../core/engine-error';
import { announcePostgres, onStopSignal, openEngine, preflightPostgres, transformSummary } from '../common';
import type { CliContext } from '../context';
import { EXIT } from '../exit-codes';

export interface TransformCommandOptions {
  select?: string[];
  exclude?: string[];
  fullRefresh?: boolean;
  vars?: string;
}

/** Failures of the project or settings: the user's to fix (exit 2), unlike a model failing on data. */
const USER_ERROR_CODES: ReadonlySet<ErrorCode> = new Set([
  'CONFIG_INVALID',
  'NOT_CONFIGURED',
  'PROJECT_LOAD',
  'PROJECT_PACKAGE',
  'TEMPLATE_SYNTAX',
  'GRAPH_CYCLE',
  'SELECTION_EMPTY',
  'PG_AUTH',
  'PG_PERMISSION',
]);

/** `cht-sync transform`: run the dbt project (bundled by default) once. */
export async function transformCommand(ctx: CliContext, opts: TransformCommandOptions): Promise<number> {
  const vars = parseVars(opts.vars);
  const select = splitSelectors(opts.select);
  const exclude = splitSelectors(opts.exclude);
  const engine = await openEngine(ctx, 'in-process');
  try {
    await preflightPostgres(engine);
    await announcePostgres(ctx, engine);
    const project = engine.config().pipeline;
    ctx.say(
      `Project: ${project.kind === 'bundled' ? 'bundled base pipeline' : project.kind === 'folder' ? project.path : project.url}`,
    );
    const off = engine.events.on('transform.modelFinished', ({ model }) => {
      if (!ctx.isJson)
        ctx.io.stderr(
          `  ${model.status.padEnd(7)} ${model.model} (${model.materialized})${model.rowsAffected !== null ? `, ${model.rowsAffected} rows` : ''}`,
        );
    });
    const disposeSignals = onStopSignal(ctx, () => void engine.close());
    let result;
    try {
      result = await engine.transformNow({
        trigger: 'cli',
        ...(select.length ? { select } : {}),
        ...(exclude.length ? { exclude } : {}),
        ...(opts.fullRefresh ? { fullRefresh: true } : {}),
        ...(vars ? { vars } : {}),
      });
    } finally {
      off();
      disposeSignals();
    }
    if (ctx.isJson) ctx.io.stdout(JSON.stringify(result, null, 2));
    else ctx.say(`\n${transformSummary(result)}`);
    if (result.outcome === 'cancelled') return EXIT.interrupted;
    // A selection that matches nothing is a typo to fix, not a success.
    if (result.models.length === 0 && (select.length || exclude.length)) {
      ctx.io.stderr(
        `error: no model matches --select ${select.join(' ') || '(all)'}${exclude.length ? ` --exclude ${exclude.join(' ')}` : ''}. Check the model names, tags and paths.`,
      );
      return EXIT.userError;
    }
    if (result.outcome === 'done') return EXIT.ok;
    // The project itself could not be used (missing, bad YAML, a template error): the user's to fix.
    const codes = result.models.filter((m) => m.status === 'error').map((m) => m.error?.code);
    if (result.models.length === 0) {
      const detail = await engine.handlers['runs.get']({ id: result.runId }).catch(() => null);
      if (detail?.error) codes.push(detail.error.code);
    }
    const isProjectProblem =
      !result.models.some((m) => m.status === 'success') &&
      codes.length > 0 &&
      codes.every((c) => c !== undefined && USER_ERROR_CODES.has(c));
    return isProjectProblem ? EXIT.userError : EXIT.incomplete;
  } finally {
    await engine.close();
  }
}

/** dbt accepts `--select "a b"` and repeated flags alike. */
export function splitSelectors(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(/\s+/)).filter((v) => v !== '');
}

export function parseVars(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = YAML.parse(text);
  } catch (error) {
    throw new EngineError(
      'CONFIG_INVALID',
      `--vars must be a YAML or JSON mapping like '{batch_size: 1000}' (${(error as Error).message.split('\n')[0]}).`,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new EngineError(
      'CONFIG_INVALID',
      `--vars must be a YAML or JSON mapping like '{batch_size: 1000}' (got ${Array.isArray(parsed) ? 'a list' : typeof parsed}).`,
    );
  }
  return parsed as Record<string, unknown>;
}
