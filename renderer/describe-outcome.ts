import type { RunSummary, SyncRunResult, TransformRunResult } from '../app/contract/dto';
import type { Tone } from './describe-state';
import { explainError, type Place } from './error-help';
import type { IconName } from './components/icon';
import { OUTCOME_LOOK } from './components/outcome-badge';
import { formatDateTime, formatDuration, formatNumber, runSeconds, type Lang } from './format';
import type { Translate } from './i18n/use-t';
import { modelErrorLine } from './run-texts';

/** A run's one-line summary in the UI's language, from its counts (the engine's own summary is English). */
export function runSummaryText(
  r: Pick<RunSummary, 'kind' | 'count' | 'errorCount' | 'outcome'>,
  t: Translate,
  lang: Lang,
): string {
  const main = t(r.kind === 'sync' ? 'summary.sync' : r.kind === 'verify' ? 'summary.verify' : 'summary.transform', {
    n: formatNumber(lang, r.count),
  });
  return r.errorCount > 0 ? `${main} · ${t('history.errors', { n: formatNumber(lang, r.errorCount) })}` : main;
}

export interface OutcomeView {
  tone: Tone;
  icon: IconName;
  title: string;
  lines: string[];
  /** What to do next, always present unless nothing is needed. */
  next: string | null;
  runId: number;
}

/** The exact truth of a manual sync: never "success" on a timeout (field evidence §5, cht-core#8303). */
export function describeSyncResult(
  r: SyncRunResult,
  t: Translate,
  lang: Lang,
  place: Place = 'dashboard',
): OutcomeView {
  // Per-database errors in the user's language (the engine's English stays in the run's details),
  // and a next step that can work: "Sync now again" only when trying again can help.
  const advice = r.databases
    .filter((d) => d.error)
    .map((d) => ({ database: d.database, help: explainError(d.error, t, { place }) }));
  const blocking = advice.find((a) => !a.help.retryable);
  // The next step names a control on the screen it is shown on: the dashboard's “Sync now”, the first sync's “Sync again”.
  const again = (key: 'partial' | 'offline' | 'timeout'): string =>
    t(place === 'first-sync' ? `syncResult.${key}.nextFirstSync` : `syncResult.${key}.next`);
  const docs = r.databases.reduce((n, d) => n + d.docs, 0);
  const deletes = r.databases.reduce((n, d) => n + d.deletes, 0);
  const skipped = r.databases.reduce((n, d) => n + d.skipped.length, 0);
  const counts = {
    docs: formatNumber(lang, docs),
    deletes: formatNumber(lang, deletes),
    time: formatDuration(lang, runSeconds(r.startedAt, r.finishedAt)),
  };
  const lines: string[] = [];
  let next: string | null = null;
  switch (r.outcome) {
    case 'done':
      lines.push(t('syncResult.done', counts));
      lines.push(t('syncResult.currentAsOf', { when: formatDateTime(lang, r.finishedAt) }));
      break;
    case 'partial':
      lines.push(t('syncResult.partial', counts));
      for (const d of r.databases.filter((x) => x.outcome !== 'done')) {
        const help = advice.find((a) => a.database === d.database)?.help;
        lines.push(`${d.database}: ${t(`outcome.${d.outcome}`)}${help ? ` — ${help.headline}` : ''}`);
      }
      next = blocking ? blocking.help.next : again('partial');
      break;
    case 'offline':
      lines.push(t('syncResult.offline'));
      if (docs > 0) lines.push(t('syncResult.savedSoFar', counts));
      next = again('offline');
      break;
    case 'timeout':
      lines.push(t('syncResult.timeout', counts));
      next = again('timeout');
      break;
    case 'refused':
      lines.push(t('syncResult.refused'));
      next = t('syncResult.refused.next');
      break;
    case 'cancelled':
      lines.push(t('syncResult.cancelled', counts));
      break;
    default: {
      lines.push(t('syncResult.failed'));
      const first = blocking ?? advice[0];
      if (first)
        lines.push(`${first.database}: ${first.help.headline}${first.help.fixes[0] ? `. ${first.help.fixes[0]}` : ''}`);
      next = first?.help.next ?? t('syncResult.failed.next');
    }
  }
  if (skipped > 0) lines.push(t('syncResult.skipped', { n: formatNumber(lang, skipped) }));
  const look = OUTCOME_LOOK[r.outcome];
  return { tone: look.tone, icon: look.icon, title: t(`syncTitle.${r.outcome}`), lines, next, runId: r.runId };
}

export function describeTransformResult(r: TransformRunResult, t: Translate, lang: Lang): OutcomeView {
  const ok = r.models.filter((m) => m.status === 'success').length;
  const failed = r.models.filter((m) => m.status === 'error');
  const skipped = r.models.filter((m) => m.status === 'skipped').length;
  const lines = [
    t('transformResult.counts', {
      ok: formatNumber(lang, ok),
      failed: formatNumber(lang, failed.length),
      skipped: formatNumber(lang, skipped),
      time: formatDuration(lang, runSeconds(r.startedAt, r.finishedAt)),
    }),
  ];
  for (const m of failed.slice(0, 3))
    lines.push(`${m.model}: ${m.error ? modelErrorLine(m.error, t) : t('model.error')}`);
  if (failed.length > 3) lines.push(t('transformResult.more', { n: failed.length - 3 }));
  const look = OUTCOME_LOOK[r.outcome];
  const next = r.outcome === 'done' ? null : t('transformResult.next');
  return { tone: look.tone, icon: look.icon, title: t(`transformTitle.${r.outcome}`), lines, next, runId: r.runId };
}
