import { ClientError } from '../app/contract/client';
import type { ErrorCode, WireError } from '../app/contract/errors';
import type { MessageKey } from './i18n/catalogue';
import type { Translate } from './i18n/use-t';

/**
 * The one rule that turns an error into what a data manager reads, everywhere in the UI:
 *  - a headline naming what is wrong, in their words and language (never the engine's English,
 *    never a guess that blames the wrong thing: https on an http port says so);
 *  - a fix in the same words (no environment variables, flags or SQL: those are the engine's
 *    words for the command line, kept in the technical detail);
 *  - a next step naming a control on the screen they are on (`place`): "Test connection" in the
 *    wizard and in Settings, "Sync now" on the dashboard only when trying again can help,
 *    otherwise the Settings link in the menu;
 *  - the technical detail (the engine's message, which names the setting or document) and the
 *    code, available but not leading.
 */
export type Place =
  | 'wizard-couch'
  | 'wizard-postgres'
  | 'wizard'
  | 'first-sync'
  | 'settings'
  | 'dashboard'
  | 'history'
  | 'data'
  | 'charts'
  | 'app';

export interface ErrorHelp {
  code: ErrorCode;
  headline: string;
  /** What to change; the first leads, the others (address hints) follow. */
  fixes: string[];
  /** A control on the current screen, or null when nothing is to be done. */
  next: string | null;
  /** The engine's own message (English, technical): shown folded. */
  detail: string;
  retryable: boolean;
}

export function toWire(error: unknown): WireError {
  if (error instanceof ClientError) return error.wire;
  if (error && typeof error === 'object' && 'code' in error && 'message' in error) {
    const e = error as { code: unknown; message: unknown; retryable?: unknown; details?: unknown };
    if (typeof e.code === 'string' && typeof e.message === 'string') {
      const wire: WireError = { code: e.code as ErrorCode, message: e.message, retryable: e.retryable === true };
      if (e.details && typeof e.details === 'object') wire.details = e.details as Record<string, unknown>;
      return wire;
    }
  }
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error), retryable: false };
}

type Area = 'couch' | 'postgres' | 'project' | 'other';

function areaOf(code: ErrorCode): Area {
  if (code.startsWith('COUCH_')) return 'couch';
  if (code.startsWith('PG_')) return 'postgres';
  if (
    code.startsWith('PROJECT_') ||
    code.startsWith('MODEL_') ||
    code.startsWith('TEMPLATE_') ||
    code === 'GRAPH_CYCLE' ||
    code === 'SELECTION_EMPTY'
  )
    return 'project';
  return 'other';
}

/** Network failures that say "the line dropped", not "the address is wrong". */
const DROPPED = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ENETDOWN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EAI_AGAIN',
]);

/** Which variant of a code this is: the words differ when the cause differs. */
function variantOf(wire: WireError, couchUrl: string | undefined): string | null {
  const d = wire.details ?? {};
  const sysCode = typeof d.code === 'string' ? d.code : '';
  switch (wire.code) {
    case 'COUCH_PROTOCOL':
      if (couchUrl !== undefined && couchUrl.trim() !== '' && !/^https?:\/\//i.test(couchUrl.trim())) return 'noScheme';
      if (d.expected === 'https') return 'https';
      if (d.expected === 'http') return 'http';
      return null;
    case 'COUCH_UNREACHABLE':
      if (sysCode === 'ENOTFOUND') return 'notFound';
      if (sysCode === 'ECONNREFUSED') return 'refused';
      if (
        DROPPED.has(sysCode) ||
        /closed the connection|connection (was )?(lost|reset)|socket hang up/i.test(wire.message)
      )
        return 'dropped';
      return null;
    case 'PG_UNREACHABLE':
      if (sysCode === 'ECONNREFUSED' || sysCode === 'ENOTFOUND' || /ECONNREFUSED|ENOTFOUND/.test(wire.message))
        return 'refused';
      if (DROPPED.has(sysCode) || /connection lost|terminat/i.test(wire.message)) return 'dropped';
      return null;
    default:
      return null;
  }
}

const HEADLINES: Partial<Record<string, MessageKey>> = {
  COUCH_UNREACHABLE: 'head.COUCH_UNREACHABLE',
  'COUCH_UNREACHABLE.notFound': 'head.COUCH_UNREACHABLE.notFound',
  'COUCH_UNREACHABLE.refused': 'head.COUCH_UNREACHABLE.refused',
  'COUCH_UNREACHABLE.dropped': 'head.COUCH_UNREACHABLE.dropped',
  COUCH_TIMEOUT: 'head.COUCH_TIMEOUT',
  COUCH_TLS: 'head.COUCH_TLS',
  COUCH_PROTOCOL: 'head.COUCH_PROTOCOL',
  'COUCH_PROTOCOL.https': 'head.COUCH_PROTOCOL.https',
  'COUCH_PROTOCOL.http': 'head.COUCH_PROTOCOL.http',
  'COUCH_PROTOCOL.noScheme': 'head.COUCH_PROTOCOL.noScheme',
  COUCH_AUTH: 'head.COUCH_AUTH',
  COUCH_FORBIDDEN: 'head.COUCH_FORBIDDEN',
  COUCH_DB_MISSING: 'head.COUCH_DB_MISSING',
  COUCH_SERVER: 'head.COUCH_SERVER',
  PG_UNREACHABLE: 'head.PG_UNREACHABLE',
  'PG_UNREACHABLE.refused': 'head.PG_UNREACHABLE',
  'PG_UNREACHABLE.dropped': 'head.PG_UNREACHABLE.dropped',
  PG_AUTH: 'head.PG_AUTH',
  PG_PERMISSION: 'head.PG_PERMISSION',
  PG_QUERY: 'head.PG_QUERY',
  PG_EMBEDDED: 'head.PG_EMBEDDED',
  NOT_CONFIGURED: 'head.NOT_CONFIGURED',
  BUSY: 'head.BUSY',
  PROJECT_LOAD: 'head.PROJECT',
  PROJECT_PACKAGE: 'head.PROJECT',
  // A model that failed is not a project that could not be loaded.
  MODEL_RUN: 'head.MODEL_RUN',
  MODEL_COMPILE: 'head.MODEL_COMPILE',
  TEMPLATE_SYNTAX: 'head.MODEL_COMPILE',
  TEMPLATE_RUNTIME: 'head.MODEL_COMPILE',
  CONFIG_INVALID: 'head.CONFIG_INVALID',
  STORE: 'head.STORE',
  CANCELLED: 'head.CANCELLED',
};

const FIXES: Partial<Record<string, MessageKey>> = {
  COUCH_UNREACHABLE: 'fix.COUCH_UNREACHABLE',
  'COUCH_UNREACHABLE.notFound': 'fix.COUCH_UNREACHABLE.notFound',
  'COUCH_UNREACHABLE.refused': 'fix.COUCH_UNREACHABLE.refused',
  'COUCH_UNREACHABLE.dropped': 'fix.COUCH_UNREACHABLE.dropped',
  COUCH_TIMEOUT: 'fix.COUCH_TIMEOUT',
  COUCH_TLS: 'fix.COUCH_TLS',
  COUCH_PROTOCOL: 'fix.COUCH_PROTOCOL',
  'COUCH_PROTOCOL.https': 'fix.COUCH_PROTOCOL.https',
  'COUCH_PROTOCOL.http': 'fix.COUCH_PROTOCOL.http',
  'COUCH_PROTOCOL.noScheme': 'fix.url.scheme',
  COUCH_AUTH: 'fix.COUCH_AUTH',
  COUCH_FORBIDDEN: 'fix.COUCH_FORBIDDEN',
  COUCH_DB_MISSING: 'fix.COUCH_DB_MISSING',
  COUCH_SERVER: 'fix.COUCH_SERVER',
  PG_UNREACHABLE: 'fix.PG_UNREACHABLE',
  'PG_UNREACHABLE.refused': 'fix.PG_UNREACHABLE',
  'PG_UNREACHABLE.dropped': 'fix.PG_UNREACHABLE.dropped',
  PG_AUTH: 'fix.PG_AUTH',
  PG_PERMISSION: 'fix.PG_PERMISSION',
  PG_EMBEDDED: 'fix.PG_EMBEDDED',
  NOT_CONFIGURED: 'fix.NOT_CONFIGURED',
  BUSY: 'fix.BUSY',
  PROJECT_LOAD: 'fix.PROJECT_LOAD',
  PROJECT_PACKAGE: 'fix.PROJECT_LOAD',
  MODEL_RUN: 'fix.MODEL',
  MODEL_COMPILE: 'fix.MODEL',
  TEMPLATE_SYNTAX: 'fix.MODEL',
  TEMPLATE_RUNTIME: 'fix.MODEL',
  CONFIG_INVALID: 'fix.CONFIG_INVALID',
  STORE: 'fix.STORE',
};

/** Would pressing the same button again help? Only for what passes by itself (a dropped line, a busy server). */
function isWorthRetrying(code: ErrorCode, variant: string | null, wire: WireError): boolean {
  if (variant === 'dropped') return true;
  if (code === 'COUCH_TIMEOUT' || code === 'COUCH_SERVER' || code === 'BUSY' || code === 'CANCELLED') return true;
  if (code === 'COUCH_UNREACHABLE' && variant === null) return wire.retryable;
  return false;
}

function nextStep(t: Translate, place: Place, area: Area, worthRetrying: boolean, code: ErrorCode): string | null {
  if (code === 'BUSY') return t('next.busy');
  if (code === 'CANCELLED') return null;
  // The controls' own labels, from the same catalogue: the words always match the screen.
  const labels = {
    button: area === 'postgres' ? t('pg.test') : t('wizard.test'),
    save: t('settings.save'),
    open: t('firstSync.openDashboard'),
    sync: t('dash.syncNow'),
    settings: t('nav.settings'),
    dashboard: t('nav.dashboard'),
    section: t('wizard.step.pipeline'),
    back: t('action.back'),
  };
  switch (place) {
    case 'wizard-couch':
    case 'wizard-postgres':
      return t('next.wizard.correct', labels);
    case 'wizard':
      return t('next.wizard.back', labels);
    case 'settings':
      return area === 'couch' || area === 'postgres'
        ? t('next.settings.correct', labels)
        : t('next.settings.correctSave', labels);
    case 'first-sync':
      return worthRetrying ? t('next.firstSync.retry', labels) : t('next.firstSync.settings', labels);
    case 'dashboard':
      if (worthRetrying) return t('next.dashboard.retry', labels);
      return area === 'project' ? t('next.dashboard.project', labels) : t('next.openSettings', labels);
    case 'history':
      // A model's failure is told model by model in the run's own table, on this screen.
      if (isModelCode(code)) return t('next.history.models', { models: t('detail.models') });
      return worthRetrying ? t('next.elsewhere.retry', labels) : t('next.openSettings', labels);
    case 'data':
    case 'charts':
      return worthRetrying ? t('next.elsewhere.retry', labels) : t('next.openSettings', labels);
    case 'app':
      return t('next.app.reload');
  }
}

function isModelCode(code: ErrorCode): boolean {
  return code === 'MODEL_RUN' || code === 'MODEL_COMPILE' || code === 'TEMPLATE_SYNTAX' || code === 'TEMPLATE_RUNTIME';
}

/** Turn an error into what a data manager can act on, on the screen they are on. */
export function explainError(error: unknown, t: Translate, where: { place: Place; couchUrl?: string }): ErrorHelp {
  const wire = toWire(error);
  const variant = variantOf(wire, where.couchUrl);
  const key = variant ? `${wire.code}.${variant}` : wire.code;
  const area = areaOf(wire.code);
  const database = typeof wire.details?.database === 'string' ? wire.details.database : '';
  const headKey = HEADLINES[key] ?? HEADLINES[wire.code];
  const headline = headKey ? t(headKey, { database }) : t(area === 'project' ? 'head.PROJECT' : 'head.generic');
  const fixes: string[] = [];
  const fixKey = FIXES[key] ?? FIXES[wire.code];
  if (fixKey) fixes.push(t(fixKey));
  if (wire.code === 'COUCH_DB_MISSING' && typeof wire.details?.suggestion === 'string')
    fixes.unshift(t('fix.didYouMean', { name: wire.details.suggestion }));
  const url = where.couchUrl?.trim();
  if (url && area === 'couch' && variant !== 'dropped') {
    for (const hint of urlHints(url, t)) if (!fixes.includes(hint)) fixes.push(hint);
  }
  const worthRetrying = isWorthRetrying(wire.code, variant, wire);
  return {
    code: wire.code,
    headline,
    fixes,
    next: nextStep(t, where.place, area, worthRetrying, wire.code),
    detail: wire.message,
    retryable: worthRetrying,
  };
}

/** A database's failure in one short line of the user's language (outcomes, the dashboard table). */
export function shortReason(error: WireError, t: Translate): string {
  return explainError(error, t, { place: 'dashboard' }).headline;
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
