import pino from 'pino';
import { redact } from './redact';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

/**
 * The engine's logging port. Structured (JSON lines) and redacting: every message
 * and field passes through `redact` before it is written, so no password, token or
 * credential-bearing URL reaches a log.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(bindings: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** A file path or a writable stream; default standard error. */
  destination?: string | NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const destination =
    typeof options.destination === 'string'
      ? pino.destination({ dest: options.destination, mkdir: true, sync: false })
      : (options.destination ?? pino.destination(2));
  const base = pino(
    {
      level: options.level ?? 'info',
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map(redactValue) as Parameters<typeof method>);
        },
      },
    },
    destination as pino.DestinationStream,
  );
  return wrap(base);
}

function wrap(inner: pino.Logger): Logger {
  const at =
    (level: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      if (fields) inner[level](fields, message);
      else inner[level](message);
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (bindings) => wrap(inner.child(redactValue(bindings) as LogFields)),
  };
}

function redactValue(value: unknown): unknown {
  if (typeof value === 'string') return redact(value);
  if (value instanceof Error) return { name: value.name, message: redact(value.message) };
  if (value && typeof value === 'object') {
    try {
      return JSON.parse(redact(JSON.stringify(value))) as unknown;
    } catch {
      return '[unserialisable]';
    }
  }
  return value;
}

/** A logger that drops everything: for tests and library callers that pass none. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};

/** A logger that keeps redacted entries in memory: for tests that assert on logs. */
export function memoryLogger(): Logger & { entries: { level: LogLevel; message: string; fields?: LogFields }[] } {
  const entries: { level: LogLevel; message: string; fields?: LogFields }[] = [];
  const make = (bindings: LogFields): Logger => {
    const at =
      (level: LogLevel) =>
      (message: string, fields?: LogFields): void => {
        const merged = fields || Object.keys(bindings).length ? { ...bindings, ...fields } : undefined;
        const entry: { level: LogLevel; message: string; fields?: LogFields } = { level, message: redact(message) };
        if (merged) entry.fields = redactValue(merged) as LogFields;
        entries.push(entry);
      };
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return Object.assign(make({}), { entries });
}
