import { useCallback, useEffect, useState } from 'react';
import type { DatabaseStatus, RunSummary, SettingsView } from '../../app/contract/dto';
import { useClient } from '../client-context';
import { Badge } from '../components/badge';
import { ErrorNotice } from '../components/error-notice';
import { Icon } from '../components/icon';
import { OutcomeBadge } from '../components/outcome-badge';
import { OutcomeNotice } from '../components/outcome-notice';
import { VerifyCard } from '../components/verify-card';
import { describeSyncResult, describeTransformResult, runSummaryText, type OutcomeView } from '../describe-outcome';
import { describeState } from '../describe-state';
import { explainError, type ErrorHelp } from '../error-help';
import { formatAgo, formatBytes, formatDateTime, formatDuration, formatNumber, type Lang } from '../format';
import { useEvent } from '../hooks/use-event';
import { useT, type Translate } from '../i18n/use-t';

/** Poll as a safety net for missed events (e.g. an HTTP event stream that reconnected). */
const REFRESH_MS = 15_000;

export function DashboardScreen({ settings }: { settings: SettingsView }) {
  const client = useClient();
  const { t, lang } = useT();
  const [statuses, setStatuses] = useState<DatabaseStatus[] | null>(null);
  const [lastTransform, setLastTransform] = useState<RunSummary | null | undefined>(undefined);
  /** The analytics tables are as current as the last transform that succeeded: the header's time. */
  const [lastBuilt, setLastBuilt] = useState<RunSummary | null | undefined>(undefined);
  const [running, setRunning] = useState<{ sync: boolean; transform: boolean }>({ sync: false, transform: false });
  const [syncOutcome, setSyncOutcome] = useState<OutcomeView | null>(null);
  const [transformOutcome, setTransformOutcome] = useState<OutcomeView | null>(null);
  const [error, setError] = useState<ErrorHelp | null>(null);
  const [copied, setCopied] = useState<Record<string, number>>({});
  /** The response being read per database (not committed yet) and the link's measured rate. */
  const [arriving, setArriving] = useState<Record<string, { rows: number; bytes: number; rate: number | null }>>({});
  const [modelsDone, setModelsDone] = useState<{ ok: number; failed: number }>({ ok: 0, failed: 0 });
  const [, setTick] = useState(0);

  const refresh = useCallback(async () => {
    try {
      const [s, runs, built, active] = await Promise.all([
        client.invoke('sync.status', {}),
        client.invoke('runs.list', { kind: 'transform', limit: 1 }),
        client.invoke('runs.list', { kind: 'transform', outcome: 'done', limit: 1 }),
        client.invoke('runs.list', { outcome: 'running', limit: 10 }),
      ]);
      setStatuses(s);
      setLastTransform(runs[0] ?? null);
      setLastBuilt(built[0] ?? null);
      setRunning((r) => ({
        sync: r.sync || active.some((x) => x.kind === 'sync'),
        transform: r.transform || active.some((x) => x.kind === 'transform'),
      }));
    } catch (e) {
      setError(explainError(e, t, { place: 'dashboard' }));
    }
  }, [client, t]);

  useEffect(() => {
    void refresh();
    const timer = setInterval(() => {
      void refresh();
      setTick((n) => n + 1); // re-render "5 minutes ago"
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [refresh]);

  useEvent('sync.statusChanged', setStatuses);
  useEvent('sync.stateChanged', ({ database, state }) =>
    setStatuses((prev) => prev?.map((s) => (s.database === database ? { ...s, state } : s)) ?? prev),
  );
  useEvent('sync.progress', (p) => {
    setCopied((prev) => ({ ...prev, [p.database]: p.docs + p.deletes }));
    setArriving((prev) => ({
      ...prev,
      [p.database]: { rows: p.receivingRows ?? 0, bytes: p.receivingBytes ?? 0, rate: p.linkBytesPerSecond ?? null },
    }));
    setStatuses(
      (prev) =>
        prev?.map((s) =>
          s.database === p.database
            ? { ...s, pending: p.pending, docsPerSecond: p.docsPerSecond, etaSeconds: p.etaSeconds }
            : s,
        ) ?? prev,
    );
  });
  useEvent('run.started', (run) => {
    setRunning((r) => ({ ...r, [run.kind]: true }));
    if (run.kind === 'sync') {
      setCopied({});
      setArriving({});
    } else setModelsDone({ ok: 0, failed: 0 });
  });
  useEvent('transform.modelFinished', ({ model }) =>
    setModelsDone((m) =>
      model.status === 'error'
        ? { ...m, failed: m.failed + 1 }
        : model.status === 'success'
          ? { ...m, ok: m.ok + 1 }
          : m,
    ),
  );
  useEvent('run.finished', (run) => {
    setRunning((r) => ({ ...r, [run.kind]: false }));
    if (run.kind === 'transform') setLastTransform(run);
    if (run.kind === 'transform' && run.outcome === 'done') setLastBuilt(run);
    void refresh();
  });

  const syncNow = async () => {
    setSyncOutcome(null);
    setError(null);
    setRunning((r) => ({ ...r, sync: true }));
    try {
      const result = await client.invoke('sync.runNow', {});
      setSyncOutcome(describeSyncResult(result, t, lang));
    } catch (e) {
      setError(explainError(e, t, { place: 'dashboard', couchUrl: settings.couch.url ?? undefined }));
    } finally {
      setRunning((r) => ({ ...r, sync: false }));
      void refresh();
    }
  };

  const transformNow = async () => {
    setTransformOutcome(null);
    setModelsDone({ ok: 0, failed: 0 });
    setError(null);
    setRunning((r) => ({ ...r, transform: true }));
    try {
      const result = await client.invoke('transform.runNow', {});
      setTransformOutcome(describeTransformResult(result, t, lang));
    } catch (e) {
      setError(explainError(e, t, { place: 'dashboard' }));
    } finally {
      setRunning((r) => ({ ...r, transform: false }));
      void refresh();
    }
  };

  const isPaused = statuses !== null && statuses.length > 0 && statuses.every((s) => s.state.kind === 'paused');
  const togglePause = async () => {
    setError(null);
    try {
      setStatuses(await client.invoke(isPaused ? 'sync.resume' : 'sync.pause', {}));
    } catch (e) {
      setError(explainError(e, t, { place: 'dashboard' }));
    }
  };

  const currentAsOf = currentAsOfText(statuses, t, lang, { lastBuilt, isBuilding: running.transform });
  const timeOf = (iso: string) => formatDateTime(lang, iso);

  return (
    <>
      <div className="page-header">
        <div>
          <h1>{t('dash.title')}</h1>
          <p className="muted" data-testid="current-as-of">
            {currentAsOf}
          </p>
        </div>
        <div className="toolbar" role="group" aria-label={t('dash.actions')}>
          {/* Busy is aria-disabled, not disabled: a disabled button drops the keyboard focus to <body>. */}
          <button
            type="button"
            className="button primary"
            onClick={() => !running.sync && void syncNow()}
            disabled={isPaused}
            aria-disabled={running.sync || undefined}
          >
            <Icon name="sync" /> {running.sync ? t('dash.syncing') : t('dash.syncNow')}
          </button>
          <button
            type="button"
            className="button"
            onClick={() => !running.transform && void transformNow()}
            aria-disabled={running.transform || undefined}
          >
            <Icon name="play" /> {running.transform ? t('dash.transforming') : t('dash.transformNow')}
          </button>
          <button type="button" className="button" onClick={() => void togglePause()} aria-pressed={isPaused}>
            <Icon name={isPaused ? 'play' : 'pause'} /> {isPaused ? t('dash.resume') : t('dash.pause')}
          </button>
        </div>
      </div>

      <div aria-live="polite" className="outcomes">
        {running.sync && !syncOutcome && (
          <p className="notice tone-busy" role="status">
            <Icon name="sync" size={20} /> <span>{t('dash.syncRunning')}</span>
          </p>
        )}
        {syncOutcome && <OutcomeNotice view={syncOutcome} onDismiss={() => setSyncOutcome(null)} />}
        {running.transform && !transformOutcome && (
          <p className="notice tone-busy" role="status">
            <Icon name="sync" size={20} />{' '}
            <span>
              {t('dash.transformRunning')}
              {modelsDone.ok + modelsDone.failed > 0 &&
                ` ${t('dash.modelsSoFar', { ok: formatNumber(lang, modelsDone.ok), failed: formatNumber(lang, modelsDone.failed) })}`}
            </span>
          </p>
        )}
        {transformOutcome && <OutcomeNotice view={transformOutcome} onDismiss={() => setTransformOutcome(null)} />}
      </div>
      {error && <ErrorNotice help={error} />}

      <section className="card" aria-labelledby="dash-dbs">
        <h2 id="dash-dbs">{t('dash.databases')}</h2>
        {statuses === null ? (
          <p role="status">{t('app.loading')}</p>
        ) : statuses.length === 0 ? (
          <p>{t('dash.noDatabases')}</p>
        ) : (
          // Narrow windows and 200% zoom: the table scrolls inside its own region, the page never sideways.
          <div className="table-scroll" role="region" aria-labelledby="dash-dbs" tabIndex={0}>
            <table className="table" data-testid="status-table">
              <thead>
                <tr>
                  <th scope="col">{t('dash.col.database')}</th>
                  <th scope="col">{t('dash.col.state')}</th>
                  <th scope="col" className="num">
                    {t('dash.col.pending')}
                  </th>
                  <th scope="col" className="num">
                    {t('dash.col.speed')}
                  </th>
                  <th scope="col" className="num">
                    {t('dash.col.eta')}
                  </th>
                  <th scope="col">{t('dash.col.lastSuccess')}</th>
                  <th scope="col">{t('dash.col.lastRun')}</th>
                </tr>
              </thead>
              <tbody>
                {statuses.map((s) => {
                  const view = describeState(s, t, timeOf, {
                    isSyncRunning: running.sync,
                    copied: copied[s.database] !== undefined ? formatNumber(lang, copied[s.database]) : null,
                    arriving:
                      arriving[s.database] && arriving[s.database]!.bytes > 0
                        ? t('state.arriving', {
                            rows: arriving[s.database]!.rows,
                            bytes: formatBytes(lang, arriving[s.database]!.bytes),
                          })
                        : null,
                  });
                  const isActive = s.state.kind === 'catching-up' || s.state.kind === 'connecting';
                  const linkRate = arriving[s.database]?.rate ?? null;
                  return (
                    <tr key={s.database} data-database={s.database}>
                      <th scope="row">
                        <code>{s.database}</code>
                      </th>
                      <td>
                        <Badge tone={view.tone} icon={view.icon}>
                          {view.label}
                        </Badge>
                        {view.detail && <div className="cell-detail">{view.detail}</div>}
                      </td>
                      <td className="num">{formatNumber(lang, s.pending)}</td>
                      <td className="num" data-testid="speed">
                        {isActive && s.docsPerSecond
                          ? `${formatNumber(lang, s.docsPerSecond)} /s`
                          : isActive && linkRate
                            ? ''
                            : '—'}
                        {isActive && linkRate ? (
                          <div className="cell-detail">{formatBytes(lang, linkRate)}/s</div>
                        ) : null}
                      </td>
                      <td className="num" data-testid="time-left">
                        {isActive ? formatDuration(lang, s.etaSeconds) : '—'}
                      </td>
                      <td>
                        {s.lastSuccessAt ? (
                          <span title={formatDateTime(lang, s.lastSuccessAt)}>{formatAgo(lang, s.lastSuccessAt)}</span>
                        ) : (
                          t('dash.never')
                        )}
                      </td>
                      <td>
                        {s.lastRun ? (
                          <a
                            href={`#/history/${s.lastRun.runId}`}
                            aria-label={t('dash.lastRunLink', {
                              id: s.lastRun.runId,
                              outcome: t(`outcome.${s.lastRun.outcome}`),
                            })}
                          >
                            <OutcomeBadge outcome={s.lastRun.outcome} />
                          </a>
                        ) : (
                          '—'
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section className="card" aria-labelledby="dash-transforms">
        <h2 id="dash-transforms">{t('dash.transforms')}</h2>
        {lastTransform === undefined ? null : lastTransform === null ? (
          <p>{t('dash.noTransforms')}</p>
        ) : (
          <p>
            <OutcomeBadge outcome={lastTransform.outcome} />{' '}
            {t('dash.lastTransform', {
              when: formatDateTime(lang, lastTransform.finishedAt ?? lastTransform.startedAt),
              summary: runSummaryText(lastTransform, t, lang),
            })}{' '}
            <a href={`#/history/${lastTransform.id}`}>{t('outcome.seeDetails')}</a>
          </p>
        )}
        <p className="muted small">{scheduleText(settings.schedule, statuses, t)}</p>
      </section>

      <VerifyCard />
    </>
  );
}

/**
 * "Data current as of …" is the analytics tables' time: when the last transform that succeeded
 * started (it read the raw table as it was then). Before any: "building" while one runs, else how
 * far the copy got and that the tables are not built; nothing while the statuses load (never "No
 * complete sync yet." before they are known), and "No complete sync yet." only when some database
 * has really never completed one.
 */
export function currentAsOfText(
  statuses: DatabaseStatus[] | null,
  t: Translate,
  lang: Lang,
  tables: { lastBuilt: RunSummary | null | undefined; isBuilding: boolean },
): string | null {
  if (tables.lastBuilt)
    return t('dash.currentAsOf', {
      when: formatDateTime(lang, tables.lastBuilt.startedAt),
      ago: formatAgo(lang, tables.lastBuilt.startedAt),
    });
  if (tables.isBuilding) return t('dash.buildingTables');
  if (statuses === null || statuses.length === 0 || tables.lastBuilt === undefined) return null;
  const times = statuses.map((s) => s.lastSuccessAt);
  if (!times.every((x): x is string => x !== null)) return t('dash.neverSynced');
  const oldest = [...times].sort()[0]!;
  return t('dash.copiedNotBuilt', { when: formatDateTime(lang, oldest) });
}

/** The schedule line. The demo (and `cht-sync run`) follow the feeds live: then it never says "only when you press". */
export function scheduleText(
  schedule: SettingsView['schedule'],
  statuses: DatabaseStatus[] | null,
  t: Translate,
): string {
  if (schedule.kind === 'interval') return t('dash.scheduleEvery', { n: schedule.minutes });
  const isFollowing = statuses?.some((s) => s.state.kind === 'live' || s.state.kind === 'catching-up') ?? false;
  return isFollowing ? t('dash.scheduleLive') : t('dash.scheduleManual');
}
