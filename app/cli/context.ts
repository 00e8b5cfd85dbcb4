import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { cleanText } from '../core/clean-text';
import { redact } from '../core/redact';
import type { LogLevel } from '../core/logger';
import { createLogger, EngineError, readEnvFile, resolveDataDir, type CliFlags, type Logger } from '../engine';

/** The options every command accepts (commander's camelCase names). */
export interface GlobalOptions {
  couchUrl?: string;
  trustCertificate?: string;
  scope?: string;
  postgresUrl?: string;
  dataDir?: string;
  databases?: string;
  schema?: string;
  table?: string;
  batchSize?: string;
  envFile?: string;
  json?: boolean;
  logLevel?: string;
  logFile?: string;
}

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Standard error is a terminal (progress bars). */
  isTty: boolean;
  /** Standard output is a terminal; when it is not, a service (run, serve) logs JSON lines there. */
  isStdoutTty?: boolean;
}

/**
 * The terminal. A reader that went away (`cht-sync status | head -1`) closes the pipe: what is
 * left to print is dropped and the command finishes with its own exit code (see `keepPipesQuiet`).
 * Every line goes through the one sanitiser: a server's words never drive the terminal.
 */
export const processIo: CliIo = {
  stdout: (text) => {
    if (!process.stdout.destroyed) process.stdout.write(`${cleanText(text)}\n`);
  },
  stderr: (text) => {
    if (!process.stderr.destroyed) process.stderr.write(`${cleanText(text)}\n`);
  },
  isTty: Boolean(process.stderr.isTTY),
  isStdoutTty: Boolean(process.stdout.isTTY),
};

/** EPIPE on standard output or error is a reader that stopped reading, not a failure of the command. */
export function keepPipesQuiet(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') return;
      throw error;
    });
  }
}

export interface CliContext {
  dataDir: string;
  env: NodeJS.ProcessEnv;
  /** The command line's settings; the engine resolves them with the environment and the saved settings (bootEngine). */
  flags: Partial<CliFlags>;
  logger: Logger;
  /** Where the log goes: a file path, or 'stdout' for a service logging JSON lines there. */
  logFile: string;
  /** A service (run, serve) in a container or under a service manager: logs are JSON lines on standard output, human lines become log entries. */
  isLogOnStdout: boolean;
  isJson: boolean;
  io: CliIo;
  /** Human output on standard output (nothing in --json mode). */
  say(line: string): void;
  /** Warnings and errors the engine logs are echoed here too (e.g. into the progress display). */
  setWarningSink(sink: ((line: string) => void) | null): void;
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** Where the log goes and the level, usable before the configuration is valid (for error reporting). */
export function logTarget(opts: GlobalOptions, env: NodeJS.ProcessEnv): { dataDir: string; logFile: string } {
  const dataDir = resolveDataDir(opts, env);
  return { dataDir, logFile: opts.logFile ? path.resolve(opts.logFile) : path.join(dataDir, 'logs', 'cht-sync.log') };
}

/** The environment: the process's own over an --env-file's (as docker compose does). */
export function loadEnv(opts: GlobalOptions): NodeJS.ProcessEnv {
  return opts.envFile ? { ...readEnvFile(path.resolve(opts.envFile)), ...process.env } : process.env;
}

export function createContext(
  opts: GlobalOptions,
  extraFlags: Partial<CliFlags>,
  io: CliIo,
  overrides: { env?: NodeJS.ProcessEnv; dataDir?: string; isService?: boolean } = {},
): CliContext {
  const env = overrides.env ?? loadEnv(opts);
  const target = logTarget(opts, env);
  const dataDir = overrides.dataDir ?? target.dataDir;
  const level = parseLevel(opts.logLevel);
  ensureFolder(dataDir, 'The data folder', '--data-dir or CHT_SYNC_DATA_DIR');
  const isLogOnStdout = overrides.isService === true && !opts.logFile && isJsonLogFormat(env.CHT_SYNC_LOG_FORMAT, io);
  if (!isLogOnStdout) ensureFolder(path.dirname(target.logFile), 'The log folder', '--log-file');
  // Synchronous writes: a CLI exits soon after its last line, and that line matters most.
  const destination: NodeJS.WritableStream = pino.destination({
    ...(isLogOnStdout ? { fd: 1 } : { dest: target.logFile, mkdir: true }),
    sync: true,
  }) as unknown as NodeJS.WritableStream;
  const fileLogger = createLogger({ level, destination });
  let warningSink: ((line: string) => void) | null = null;
  const isJson = Boolean(opts.json);
  // On standard output the log already carries every warning: no second copy on standard error.
  const logger = isLogOnStdout
    ? fileLogger
    : teeWarnings(fileLogger, (line) => {
        if (isJson) return;
        if (warningSink) warningSink(line);
        else io.stderr(line);
      });

  const flags: Partial<CliFlags> = { ...extraFlags };
  if (opts.couchUrl !== undefined) flags.couchUrl = opts.couchUrl;
  if (opts.trustCertificate !== undefined) flags.trustCertificate = opts.trustCertificate;
  if (opts.scope !== undefined) flags.scope = opts.scope;
  if (opts.postgresUrl !== undefined) flags.postgresUrl = opts.postgresUrl;
  if (opts.databases !== undefined) flags.databases = opts.databases;
  if (opts.schema !== undefined) flags.schema = opts.schema;
  if (opts.table !== undefined) flags.table = opts.table;
  if (opts.batchSize !== undefined) flags.batchSize = opts.batchSize;
  return {
    dataDir,
    env,
    flags,
    logger,
    logFile: isLogOnStdout ? 'stdout' : target.logFile,
    isLogOnStdout,
    isJson,
    io,
    say: (line) => {
      if (isLogOnStdout) logger.info(line);
      else if (!isJson) io.stdout(line);
    },
    setWarningSink: (sink) => {
      warningSink = sink;
    },
  };
}

/**
 * CHT_SYNC_LOG_FORMAT=json: JSON lines on standard output; =file: the log file (as on a desktop);
 * unset: JSON on standard output when it is not a terminal (a container, systemd, a pipe).
 */
function isJsonLogFormat(value: string | undefined, io: CliIo): boolean {
  const format = value?.trim().toLowerCase();
  if (format === 'json') return true;
  if (format === 'file') return false;
  if (format)
    throw new EngineError(
      'CONFIG_INVALID',
      `CHT_SYNC_LOG_FORMAT must be 'json' (standard output) or 'file' (got '${value}').`,
    );
  return io.isStdoutTty === false;
}

function ensureFolder(dir: string, what: string, setting: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new EngineError(
      'CONFIG_INVALID',
      `${what} ${dir} cannot be created or written (${code}). Choose another with ${setting}.`,
      { cause: error },
    );
  }
}

function parseLevel(value: string | undefined): LogLevel {
  if (value === undefined) return 'info';
  const level = value.toLowerCase() as LogLevel;
  if (!LEVELS.includes(level)) {
    // Reported like any other setting problem.
    throw Object.assign(new Error(`--log-level must be one of ${LEVELS.join(', ')} (got '${value}').`), {
      isUsage: true,
    });
  }
  return level;
}

function teeWarnings(inner: Logger, echo: (line: string) => void): Logger {
  const wrap = (l: Logger): Logger => ({
    debug: (m, f) => l.debug(m, f),
    info: (m, f) => l.info(m, f),
    warn: (m, f) => {
      l.warn(m, f);
      echo(`warning: ${redact(withDetail(m, f))}`);
    },
    error: (m, f) => {
      l.error(m, f);
      echo(`error: ${redact(withDetail(m, f))}`);
    },
    child: (b) => wrap(l.child(b)),
  });
  return wrap(inner);
}

function withDetail(message: string, fields: Record<string, unknown> | undefined): string {
  const error = fields?.error;
  if (error instanceof Error) return `${message}: ${error.message}`;
  if (error && typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string')
    return `${message}: ${(error as { message: string }).message}`;
  return message;
}

/** dist/renderer of this installation, found from the running file (bundle or source). */
export function rendererDir(): string | null {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, path.basename(dir) === 'dist' ? 'renderer' : path.join('dist', 'renderer'));
    if (existsSync(path.join(candidate, 'index.html'))) return candidate;
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}
