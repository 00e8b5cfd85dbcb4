import { ClientError } from '../app/contract/client';
import type { ErrorCode, WireError } from '../app/contract/errors';
import type { MessageKey } from './i18n/catalogue';
import type { Translate } from './i18n/use-t';

/** The codes we have written a plain-language fix for; anything else shows the engine's own message. */
const FIXES: Partial<Record<ErrorCode, MessageKey>> = {
  COUCH_UNREACHABLE: 'fix.COUCH_UNREACHABLE',
  COUCH_TIMEOUT: 'fix.COUCH_TIMEOUT',
  COUCH_TLS: 'fix.COUCH_TLS',
  COUCH_PROTOCOL: 'fix.COUCH_PROTOCOL',
  COUCH_AUTH: 'fix.COUCH_AUTH',
  COUCH_FORBIDDEN: 'fix.COUCH_FORBIDDEN',
  COUCH_DB_MISSING: 'fix.COUCH_DB_MISSING',
  COUCH_SERVER: 'fix.COUCH_SERVER',
  PG_UNREACHABLE: 'fix.PG_UNREACHABLE',
  PG_AUTH: 'fix.PG_AUTH',
  PG_PERMISSION: 'fix.PG_PERMISSION',
  PG_EMBEDDED: 'fix.PG_EMBEDDED',
  NOT_CONFIGURED: 'fix.NOT_CONFIGURED',
  BUSY: 'fix.BUSY',
  PROJECT_LOAD: 'fix.PROJECT_LOAD',
  CONFIG_INVALID: 'fix.CONFIG_INVALID',
};

export function toWire(error: unknown): WireError {
  if (error instanceof ClientError) return error.wire;
  if (error && typeof error === 'object' && 'code' in error && 'message' in error) {
    const e = error as { code: unknown; message: unknown };
    if (typeof e.code === 'string' && typeof e.message === 'string') {
      return { code: e.code as ErrorCode, message: e.message, retryable: false };
    }
  }
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error), retryable: false };
}

export interface ErrorHelp {
  code: ErrorCode;
  /** The engine's own words: names the setting or document at fault. */
  message: string;
  /** What to do, in plain language; several hints when the address itself looks suspicious. */
  fixes: string[];
}

/** Turn an error into what a data manager can act on. `couchUrl` lets us spot 443/5984 and scheme mistakes. */
export function explainError(error: unknown, t: Translate, context: { couchUrl?: string } = {}): ErrorHelp {
  const wire = toWire(error);
  const fixes: string[] = [];
  const key = FIXES[wire.code];
  if (key) fixes.push(t(key));
  if (wire.code === 'COUCH_DB_MISSING' && typeof wire.details?.suggestion === 'string') {
    fixes.push(t('fix.didYouMean', { name: wire.details.suggestion }));
  }
  const url = context.couchUrl?.trim();
  if (url && wire.code.startsWith('COUCH_')) fixes.push(...urlHints(url, t));
  return { code: wire.code, message: wire.message, fixes };
}

/** Address mistakes the evidence says people make: 5984 instead of 443, http vs https, no scheme. */
export function urlHints(raw: string, t: Translate): string[] {
  const hints: string[] = [];
  if (!/^https?:\/\//i.test(raw)) {
    hints.push(t('fix.url.scheme'));
    return hints;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    hints.push(t('fix.url.invalid'));
    return hints;
  }
  const isLocal = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.port === '5984' && !isLocal) hints.push(t('fix.url.port5984'));
  if (url.protocol === 'http:' && !isLocal && url.port !== '5984') hints.push(t('fix.url.http'));
  if (url.protocol === 'https:' && url.port === '5984') hints.push(t('fix.url.httpsOn5984'));
  if (url.pathname.length > 1) hints.push(t('fix.url.path'));
  if (url.username || url.password) hints.push(t('fix.url.credentials'));
  return hints;
}
