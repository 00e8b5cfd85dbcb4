import type { DatabaseStatus } from '../app/contract/dto';
import { shortReason } from './error-help';
import type { IconName } from './components/icon';
import type { Translate } from './i18n/use-t';

/** Socket errors that mean the server could not be reached at all; any other drop happened mid-copy. */
const CANNOT_CONNECT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN']);
const isCannotConnect = (error: DatabaseStatus['state']['error']): boolean => {
  const code = error?.details?.code;
  return typeof code === 'string' && CANNOT_CONNECT.has(code);
};

export type Tone = 'ok' | 'busy' | 'warn' | 'bad' | 'neutral';

export interface StateView {
  tone: Tone;
  icon: IconName;
  label: string;
  /** One sentence on what it means / what happens next. */
  detail: string;
}

/** Below this, a catching-up sync is "slow", not "down": worth saying, not alarming. */
const SLOW_DOCS_PER_SECOND = 5;

/** Words, colour and icon for a database's sync state. The engine's `state.kind` decides; we never guess from booleans. */
export function describeState(
  status: DatabaseStatus,
  t: Translate,
  formatTime: (iso: string) => string,
  live: { isSyncRunning?: boolean; copied?: string | null; arriving?: string | null } = {},
): StateView {
  const { state } = status;
  const code = state.error?.code;
  switch (state.kind) {
    case 'idle': {
      // A database not started yet while its siblings sync: waiting, not "press Sync now".
      if (live.isSyncRunning)
        return { tone: 'neutral', icon: 'clock', label: t('state.waiting'), detail: t('state.waiting.detail') };
      // Not running: what matters is how the last attempt ended, so "offline" stays visible after a failed sync.
      const last = status.lastRun;
      const when = last?.finishedAt ? formatTime(last.finishedAt) : '';
      switch (last?.outcome) {
        case undefined:
          return { tone: 'neutral', icon: 'idle', label: t('state.idle'), detail: t('state.idle.never') };
        case 'done':
          // The time is already in "Last success"; repeating it on every row is noise.
          return { tone: 'ok', icon: 'check', label: t('state.synced'), detail: '' };
        case 'offline':
          return {
            tone: 'bad',
            icon: 'offline',
            label: t('state.offline'),
            detail: t('state.lastOffline', { time: when }),
          };
        case 'timeout':
          return {
            tone: 'warn',
            icon: 'clock',
            label: t('state.slow'),
            detail: t('state.lastTimeout', { time: when }),
          };
        case 'refused':
          return { tone: 'bad', icon: 'lock', label: t('state.refused'), detail: t('state.refused.detail') };
        case 'partial':
          return {
            tone: 'warn',
            icon: 'alert',
            label: t('state.partial'),
            detail: t('state.lastPartial', { time: when }),
          };
        case 'failed':
          return { tone: 'bad', icon: 'cross', label: t('state.error'), detail: t('state.lastFailed', { time: when }) };
        default:
          return { tone: 'neutral', icon: 'idle', label: t('state.idle'), detail: t('state.idle.detail') };
      }
    }
    case 'connecting':
      return { tone: 'busy', icon: 'sync', label: t('state.connecting'), detail: t('state.connecting.detail') };
    case 'catching-up': {
      const isSlow =
        status.docsPerSecond !== null && status.docsPerSecond < SLOW_DOCS_PER_SECOND && (status.pending ?? 1) > 0;
      // Progress within a batch: on a slow link one response takes a while, and the rows arriving show it moving.
      const arriving = live.arriving ? ` ${live.arriving}` : '';
      return isSlow
        ? {
            tone: 'warn',
            icon: 'clock',
            label: t('state.catchingUpSlow'),
            detail: `${t('state.catchingUpSlow.detail')}${arriving}`,
          }
        : {
            tone: 'busy',
            icon: 'sync',
            label: t('state.catchingUp'),
            detail: `${live.copied ? t('state.copiedSoFar', { n: live.copied }) : t('state.catchingUp.detail')}${arriving}`,
          };
    }
    case 'live':
      return { tone: 'ok', icon: 'check', label: t('state.live'), detail: t('state.live.detail') };
    case 'paused':
      return { tone: 'neutral', icon: 'pause', label: t('state.paused'), detail: t('state.paused.detail') };
    case 'backing-off': {
      const retry = state.retryAt ? t('state.retryAt', { time: formatTime(state.retryAt) }) : '';
      if (code === 'COUCH_TIMEOUT')
        return {
          tone: 'warn',
          icon: 'clock',
          label: t('state.slow'),
          detail: `${t('state.slow.detail')} ${retry}`.trim(),
        };
      if (code === 'COUCH_AUTH' || code === 'COUCH_FORBIDDEN')
        return { tone: 'bad', icon: 'lock', label: t('state.refused'), detail: t('state.refused.detail') };
      // A link that dropped in the middle of a copy is not "offline": the server was there a moment ago.
      if (code === 'COUCH_UNREACHABLE' && !isCannotConnect(state.error))
        return {
          tone: 'warn',
          icon: 'sync',
          label: t('state.reconnecting'),
          detail: `${t('state.reconnecting.detail')} ${retry}`.trim(),
        };
      if (!code || code === 'COUCH_UNREACHABLE')
        return {
          tone: 'bad',
          icon: 'offline',
          label: t('state.offline'),
          detail: `${t('state.offline.detail')} ${retry}`.trim(),
        };
      return {
        tone: 'warn',
        icon: 'alert',
        label: t('state.retrying'),
        detail: `${state.error ? shortReason(state.error, t) : ''} ${retry}`.trim(),
      };
    }
    case 'error':
      if (code === 'COUCH_AUTH' || code === 'COUCH_FORBIDDEN')
        return { tone: 'bad', icon: 'lock', label: t('state.refused'), detail: t('state.refused.detail') };
      if (code === 'COUCH_UNREACHABLE')
        return { tone: 'bad', icon: 'offline', label: t('state.offline'), detail: t('state.offline.detail') };
      return {
        tone: 'bad',
        icon: 'cross',
        label: t('state.error'),
        detail: state.error ? shortReason(state.error, t) : t('state.error.detail'),
      };
  }
}
