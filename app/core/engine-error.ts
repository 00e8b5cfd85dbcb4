import type { ErrorCode, WireError } from '../contract/errors';
import { cleanDeep, cleanText } from './clean-text';
import { redact } from './redact';

export interface EngineErrorOptions {
  retryable?: boolean;
  details?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * The engine's one error class. Driver errors are translated into it at the port
 * that caught them; the message is plain language, names what is at fault and
 * how to fix it, and carries no secret.
 */
export class EngineError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: EngineErrorOptions = {}) {
    // A server's words often end up in the message: cleaned here, so no error carries escapes.
    super(cleanText(redact(message)), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EngineError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }

  toWire(): WireError {
    const wire: WireError = { code: this.code, message: this.message, retryable: this.retryable };
    if (this.details !== undefined) wire.details = redactDetails(this.details);
    return wire;
  }
}

export function isEngineError(value: unknown): value is EngineError {
  return value instanceof EngineError;
}

/** Any thrown value as a wire error; unknown errors become INTERNAL with a redacted message. */
export function toWireError(error: unknown): WireError {
  if (error instanceof EngineError) return error.toWire();
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL', message: cleanText(redact(message)), retryable: false };
}

function redactDetails(details: Record<string, unknown>): Record<string, unknown> {
  return cleanDeep(JSON.parse(redact(JSON.stringify(details))) as Record<string, unknown>);
}
