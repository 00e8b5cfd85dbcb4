import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import pkg from '../../package.json';
import { ClientError } from '../contract/client';
import { EngineError } from '../core/engine-error';
import { redact } from '../core/redact';
import { hasRealSetup, type CliFlags } from '../engine';
import { dbtCommand, type DbtCommand, type DbtOptions } from './commands/dbt';
import { demoCommand } from './commands/demo';
import { doctorCommand } from './commands/doctor';
import { runCommand } from './commands/run';
import { serveCommand } from './commands/serve';
import { statusCommand } from './commands/status';
import { syncCommand } from './commands/sync';
import { transformCommand } from './commands/transform';
import { verifyCommand } from './commands/verify';
import {
  createContext,
  loadEnv,
  logTarget,
  processIo,
  type CliContext,
  type CliIo,
  type GlobalOptions,
} from './context';
import { EXIT } from './exit-codes';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/**
 * Builds the `cht-sync` program. Every action resolves to an exit code; errors
 * are reported without a stack trace (the log file has the details).
 */
export function buildProgram(
  io: CliIo = processIo,
  setExitCode: (code: number) => void = (c) => (process.exitCode = c),
): Command {
  const program = new Command('cht-sync')
    .description(
      'Copy a CHT instance’s CouchDB databases into PostgreSQL (cht-sync v2 layout) and run CHT Pipeline (dbt) models on them.',
    )
    .version(pkg.version, '-V, --version')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showHelpAfterError('(run with --help for the options)')
    .option(
      '--couch-url <url>',
      'CouchDB / CHT URL, e.g. https://user@cht.example.org (password: COUCHDB_PASSWORD) [env COUCHDB_HOST, COUCHDB_PORT, COUCHDB_SECURE]',
    )
    .option(
      '--trust-certificate <sha256>',
      'accept the CouchDB server’s self-signed certificate with this SHA-256 fingerprint (the connection error prints it) [env CHT_SYNC_TRUST_CERTIFICATE]',
    )
    .option(
      '--scope <place ids>',
      'sync only these places’ subtrees (districts), comma-separated place _ids, filtered on the server [env CHT_SYNC_SCOPE]',
    )
    .option(
      '--postgres-url <url>',
      "PostgreSQL URL, e.g. postgres://user@host:5432/db, or 'embedded' [env POSTGRES_HOST …; default: the embedded server]",
    )
    .option('--databases <list>', 'CouchDB databases, comma- or space-separated [env COUCHDB_DBS; default medic]')
    .option('--schema <name>', 'PostgreSQL schema of the raw table [env POSTGRES_SCHEMA; default v1]')
    .option('--table <name>', 'raw table name [env POSTGRES_TABLE; default couchdb]')
    .option('--batch-size <n>', 'documents per batch [default 1000]')
    .option('--data-dir <dir>', 'the app’s state folder, shared with the desktop app [env CHT_SYNC_DATA_DIR]')
    .option(
      '--env-file <file>',
      'read settings from an env file (an existing cht-sync .env works unchanged); the real environment wins',
    )
    .option('--json', 'print machine-readable JSON on standard output')
    .addOption(
      new Option('--log-level <level>', 'log detail').choices(['debug', 'info', 'warn', 'error']).default('info'),
    )
    .option('--log-file <file>', 'where the JSON-lines log goes [default <data dir>/logs/cht-sync.log]')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout(s.replace(/\n$/, '')),
      writeErr: (s) => io.stderr(s.replace(/\n$/, '')),
    });

  const action =
    <A extends unknown[]>(
      fn: (ctx: CliContext, ...args: A) => Promise<number>,
      extraFlags: (...args: A) => Partial<CliFlags> = () => ({}),
      o: { isService?: boolean } = {},
    ) =>
    async (...raw: unknown[]): Promise<void> => {
      const command = raw[raw.length - 1] as Command;
      const args = raw.slice(0, -1) as A;
      const opts = command.optsWithGlobals<GlobalOptions>();
      setExitCode(
        await execute(
          io,
          opts,
          (ctxOpts) => fn(ctxOpts, ...args),
          () => createContext(opts, extraFlags(...args), io, { isService: o.isService === true }),
        ),
      );
    };

  program
    .command('sync')
    .description('Catch up every configured database, then follow the changes live (--once: catch up and exit)')
    .option('--once', 'catch up and exit; exit code 0 only when every database reached the end of its feed')
    .option('--timeout <seconds>', 'with --once: report "timeout" for databases not caught up by then')
    .action(action((ctx, o: { once?: boolean; timeout?: string }) => syncCommand(ctx, o)));

  program
    .command('verify')
    .description(
      'Check the raw table against the server without downloading documents: missing, out-of-date, purged and out-of-scope rows (--fix: fetch and mark them)',
    )
    .option(
      '--fix',
      'fetch missing and out-of-date documents again; mark rows gone from the server (or the scope) deleted',
    )
    .action(action((ctx, o: { fix?: boolean }) => verifyCommand(ctx, o)));

  program
    .command('status')
    .description(
      'Per database: last committed seq, pending, last run and its outcome (from the local state; no server is contacted)',
    )
    .action(action((ctx) => statusCommand(ctx)));

  program
    .command('transform')
    .description(
      'Run the dbt project (the bundled base pipeline unless --project / DBT_LOCAL_PATH / CHT_PIPELINE_BRANCH_URL)',
    )
    .option('--project <dir|url>', 'a dbt project folder, or a git URL (…#branch); cached for offline use')
    .option(
      '--select <selector>',
      'models to run: name, tag:x, path:x, package:x, config.materialized:x, +ancestors, descendants+, state:modified (repeatable)',
      collect,
    )
    .option('--exclude <selector>', 'models to leave out (repeatable)', collect)
    .option('--full-refresh', 'rebuild incremental models from scratch')
    .option('--vars <yaml>', "project variables as YAML, e.g. '{batch_size: 1000}'")
    .option('--threads <n>', 'models run in parallel [env DBT_THREAD_COUNT; default 1]')
    .action(
      action(
        (
          ctx,
          o: {
            select?: string[];
            exclude?: string[];
            fullRefresh?: boolean;
            vars?: string;
            project?: string;
            threads?: string;
          },
        ) => transformCommand(ctx, o),
        (o) => ({ ...(o.project ? { project: o.project } : {}), ...(o.threads ? { threads: o.threads } : {}) }),
      ),
    );

  // `cht-sync dbt <command>`: dbt's CLI, one subcommand per dbt command, dbt's flags and exit codes.
  const dbt = program
    .command('dbt')
    .description(
      'Run dbt commands on the engine: run, build, test, seed, snapshot, compile, ls, docs generate, run-operation, debug, source freshness (dbt’s flags and exit codes)',
    );
  const dbtFlags = (c: Command, o: { selection?: boolean; run?: boolean } = {}): Command => {
    c.option(
      '--project-dir <dir>',
      'the dbt project folder [default: the current folder if it has dbt_project.yml, else cht-sync’s project]',
    )
      .option('--project <dir>', 'same as --project-dir')
      .option(
        '--profiles-dir <dir>',
        'where profiles.yml is [default: DBT_PROFILES_DIR, the project folder, ~/.dbt; none: cht-sync’s PostgreSQL settings]',
      )
      .option('--profile <name>', 'the profile to use [default: dbt_project.yml’s profile]')
      .option('-t, --target <name>', 'the profile’s target')
      .option('--vars <yaml>', "project variables as YAML, e.g. '{batch_size: 1000}'");
    if (o.selection !== false) {
      c.option(
        '-s, --select <selector...>',
        'nodes to include: name, staging.*, tag:x, path:x, source:x+, config.materialized:table, resource_type:x, +/@ graph operators',
      )
        .option('--models <selector...>', 'same as --select')
        .option('--exclude <selector...>', 'nodes to leave out')
        .option('--selector <name>', 'a selector from selectors.yml')
        .addOption(
          new Option('--indirect-selection <mode>', 'which tests of selected nodes run').choices([
            'eager',
            'cautious',
            'buildable',
            'empty',
          ]),
        );
    }
    if (o.run) {
      c.option('--full-refresh', 'rebuild incremental models, seeds and snapshots from scratch')
        .option('-x, --fail-fast', 'stop at the first failure')
        .option('--threads <n>', 'nodes run in parallel');
    }
    return c;
  };
  const dbtAction =
    (command: DbtCommand) =>
    (...raw: unknown[]): Promise<void> => {
      const cmd = raw[raw.length - 1] as Command;
      const opts = cmd.opts<DbtOptions & { project?: string; models?: string[] }>();
      const positional = raw.slice(0, -2).filter((x): x is string => typeof x === 'string');
      const merged: DbtOptions = {
        ...opts,
        ...(opts.project && !opts.projectDir ? { projectDir: opts.project } : {}),
        ...(opts.models ? { select: [...(opts.select ?? []), ...opts.models] } : {}),
      };
      return action((ctx) => dbtCommand(ctx, command, merged, positional))(cmd);
    };
  for (const [name, description] of [
    ['run', 'build the selected models'],
    ['build', 'seeds, snapshots, models and their tests in DAG order; a failing test skips what depends on it'],
    ['test', 'run data tests (generic and singular) and unit tests'],
    ['seed', 'load the CSV files under seed-paths'],
    ['snapshot', 'record changes of the snapshot queries (type-2 history)'],
    ['compile', 'render the selected nodes to SQL into target/compiled (run nothing)'],
  ] as const) {
    dbtFlags(dbt.command(name).description(description), { run: name !== 'compile' }).action(dbtAction(name));
  }
  dbtFlags(dbt.command('ls').alias('list').description('list the selected nodes'))
    .option('--resource-type <type...>', 'model, seed, snapshot, test, unit_test, source')
    .option('-o, --output <format>', 'selector (default), name, path or json')
    .action(dbtAction('ls'));
  const docs = dbt.command('docs').description('docs generate: target/manifest.json and catalog.json');
  dbtFlags(docs.command('generate').description('write target/manifest.json and target/catalog.json')).action(
    dbtAction('docs generate'),
  );
  const source = dbt.command('source').description('source freshness');
  dbtFlags(
    source
      .command('freshness')
      .description('check sources’ loaded_at_field against their freshness: limits (target/sources.json)'),
  ).action(dbtAction('source freshness'));
  dbtFlags(
    dbt
      .command('run-operation')
      .argument('<macro>', 'the macro to call')
      .description('call a macro (with --args as YAML)'),
    { selection: false },
  )
    .option('--args <yaml>', "the macro's arguments, e.g. '{table: orders}'")
    .action(dbtAction('run-operation'));
  dbtFlags(dbt.command('debug').description('show the project, profile and target, and test the connection'), {
    selection: false,
  }).action(dbtAction('debug'));

  program
    .command('run')
    .description(
      'The daemon: sync continuously and run the incremental models whenever new rows land [env DATAEMON_INTERVAL, DBT_SELECTOR, DBT_BATCH_SIZE]',
    )
    .option('--project <dir|url>', 'a dbt project folder or git URL [env DBT_LOCAL_PATH, CHT_PIPELINE_BRANCH_URL]')
    .option('--threads <n>', 'models run in parallel [env DBT_THREAD_COUNT]')
    .option(
      '--interval <seconds>',
      'at most one transform run per this many seconds [env DATAEMON_INTERVAL; default 5]',
    )
    .option(
      '--metrics-port <n>',
      'serve /metrics (Prometheus), /healthz and /readyz on this port [env CHT_SYNC_METRICS_PORT; default: not served]',
    )
    .option('--metrics-host <address>', 'address for the metrics port [env CHT_SYNC_METRICS_HOST; default 127.0.0.1]')
    .action(
      action(
        (
          ctx,
          o: { project?: string; threads?: string; interval?: string; metricsPort?: string; metricsHost?: string },
        ) => runCommand(ctx, o),
        (o) => ({
          ...(o.project ? { project: o.project } : {}),
          ...(o.threads ? { threads: o.threads } : {}),
          ...(o.interval ? { intervalSeconds: o.interval } : {}),
        }),
        { isService: true },
      ),
    );

  program
    .command('serve')
    .description(
      'Serve the desktop app’s UI and API to a browser (127.0.0.1; the printed URL carries the access token)',
    )
    .option('--port <n>', 'port to listen on [default: any free port]')
    .option('--host <address>', 'address to listen on [default 127.0.0.1]')
    .option(
      '--metrics-port <n>',
      'serve /metrics (Prometheus), /healthz and /readyz on this port [env CHT_SYNC_METRICS_PORT; default: not served]',
    )
    .option('--metrics-host <address>', 'address for the metrics port [env CHT_SYNC_METRICS_HOST; default 127.0.0.1]')
    .action(
      action(
        (ctx, o: { port?: string; host?: string; metricsPort?: string; metricsHost?: string }) => serveCommand(ctx, o),
        (_o) => ({}),
        { isService: true },
      ),
    );

  program
    .command('doctor')
    .description(
      "Check a service end to end for an operator or a probe: configuration, CouchDB and its databases, PostgreSQL and the raw tables, each database's position and backlog, recent runs; exit 0 when all is well, 1 when something needs attention",
    )
    .option(
      '--metrics-url <url>',
      "also ask a running service's /readyz, e.g. http://127.0.0.1:9464 [default: CHT_SYNC_METRICS_PORT on loopback, when set]",
    )
    .action(action((ctx, o: { metricsUrl?: string }) => doctorCommand(ctx, o)));

  program
    .command('demo')
    .description(
      'Try everything with no CHT server: synthetic CHT data, the embedded PostgreSQL, a first sync, transforms, live following and the UI',
    )
    .option('--port <n>', 'port for the UI [default: any free port]')
    .action(async (o: { port?: string }, command: Command) => {
      const opts = command.optsWithGlobals<GlobalOptions>();
      const flags: Partial<CliFlags> = {
        ...(opts.postgresUrl ? { postgresUrl: opts.postgresUrl } : {}),
        ...(opts.schema ? { schema: opts.schema } : {}),
        ...(opts.table ? { table: opts.table } : {}),
        ...(opts.batchSize ? { batchSize: opts.batchSize } : {}),
      };
      setExitCode(
        await execute(
          io,
          opts,
          (ctx) => demoCommand(ctx, o),
          () => {
            const env = loadEnv(opts);
            const dataDir = demoDataDir(opts, env, io);
            return createContext({ ...opts, couchUrl: undefined, databases: undefined }, flags, io, {
              env: { CHT_SYNC_DATA_DIR: dataDir },
              dataDir,
            });
          },
        ),
      );
    });

  return program;
}

/**
 * The demo replaces the saved setup; a real one is kept safe by running the
 * demo in its own folder inside the data folder.
 */
function demoDataDir(opts: GlobalOptions, env: NodeJS.ProcessEnv, io: CliIo): string {
  const { dataDir } = logTarget(opts, env);
  if (!hasRealSetup(dataDir)) return dataDir;
  const demoDir = path.join(dataDir, 'demo-workspace');
  if (!opts.json) io.stderr(`This data folder holds a real setup; the demo runs in ${demoDir} instead.`);
  return demoDir;
}

/** Runs one command: user errors → message + exit 2, anything else → short message + the log path. */
async function execute(
  io: CliIo,
  opts: GlobalOptions,
  run: (ctx: CliContext) => Promise<number>,
  context: () => CliContext,
): Promise<number> {
  let ctx: CliContext | null = null;
  try {
    ctx = context();
    ctx.logger.info('command started', { argv: process.argv.slice(2).map((a) => redact(a)) });
    const code = await run(ctx);
    ctx.logger.info('command finished', { exitCode: code });
    return code;
  } catch (error) {
    const isJson = Boolean(opts.json);
    if (error instanceof EngineError || error instanceof ClientError || (error as { isUsage?: boolean }).isUsage) {
      const wire =
        error instanceof EngineError
          ? error.toWire()
          : error instanceof ClientError
            ? error.wire
            : { code: 'CONFIG_INVALID' as const, message: redact((error as Error).message), retryable: false };
      ctx?.logger.info('command refused', { error: wire });
      if (isJson) io.stdout(JSON.stringify({ ok: false, error: wire }, null, 2));
      else io.stderr(`error: ${wire.message}`);
      return EXIT.userError;
    }
    let logFile = '';
    try {
      logFile = logTarget(opts, process.env).logFile;
    } catch {
      logFile = '';
    }
    const message = redact(error instanceof Error ? error.message : String(error));
    ctx?.logger.error('command failed unexpectedly', {
      error: { name: (error as Error)?.name, message, stack: redact((error as Error)?.stack ?? '') },
    });
    const where = ctx ? ` Details are in the log: ${ctx.logFile}` : logFile ? ` The log is ${logFile}.` : '';
    if (isJson)
      io.stdout(JSON.stringify({ ok: false, error: { code: 'INTERNAL', message, retryable: false } }, null, 2));
    else io.stderr(`cht-sync failed unexpectedly: ${message}.${where}`);
    return EXIT.internal;
  }
}

/** Parses argv and runs; resolves to the exit code (commander's own errors included). */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit 0; usage mistakes are user errors.
      return error.exitCode === 0 ? EXIT.ok : EXIT.userError;
    }
    throw error;
  }
  return code;
}
