import { useCallback, useEffect, useRef, useState } from 'react';
import { ClientError } from '../../app/contract/client';
import type { CouchDatabaseInfo, RunDetail, SettingsView, SyncProgress, SyncRunResult } from '../../app/contract/dto';
import { useClient } from '../client-context';
import { ErrorNotice } from '../components/error-notice';
import { OutcomeNotice } from '../components/outcome-notice';
import { describeSyncResult } from '../describe-outcome';
import { explainError, type ErrorHelp } from '../error-help';
import { formatBytes, formatDuration, formatNumber } from '../format';
import { useEvent } from '../hooks/use-event';
import { useT } from '../i18n/use-t';

export function syncResultFromDetail(d: RunDetail): SyncRunResult {
  return {
    runId: d.id,
    outcome: d.outcome,
    startedAt: d.startedAt,
    finishedAt: d.finishedAt ?? d.startedAt,
    databases: d.databases ?? [],
  };
}

/** The first sync right after setup, with per-database live progress and the exact outcome. */
export function FirstSync({
  settings,
  expectedDocs,
  onDone,
}: {
  settings: SettingsView;
  expectedDocs?: CouchDatabaseInfo[];
  onDone: () => void;
}) {
  const client = useClient();
  const { t, lang } = useT();
  const [progress, setProgress] = useState<Record<string, SyncProgress>>({});
  const [result, setResult] = useState<SyncRunResult | null>(null);
  const [error, setError] = useState<ErrorHelp | null>(null);
  const startedRef = useRef(false);
  const waitingForRunRef = useRef(false);

  useEvent('sync.progress', (p) => setProgress((prev) => ({ ...prev, [p.database]: p })));
  useEvent('run.finished', (run) => {
    // The engine may have started the first sync itself (BUSY below): take that run's outcome.
    if (!waitingForRunRef.current || run.kind !== 'sync') return;
    waitingForRunRef.current = false;
    client.invoke('runs.get', { id: run.id }).then(
      (d) => setResult(syncResultFromDetail(d)),
      (e: unknown) => setError(explainError(e, t, { place: 'first-sync' })),
    );
  });

  const start = useCallback(() => {
    setResult(null);
    setError(null);
    setProgress({});
    client.invoke('sync.runNow', {}).then(setResult, (e: unknown) => {
      if (e instanceof ClientError && e.code === 'BUSY') waitingForRunRef.current = true;
      else setError(explainError(e, t, { place: 'first-sync', couchUrl: settings.couch.url ?? undefined }));
    });
  }, [client, t, settings.couch.url]);

  useEffect(() => {
    if (startedRef.current) return;
    startedRef.current = true;
    start();
  }, [start]);

  const databases = settings.couch.databases;
  const isRunning = !result && !error;
  return (
    <section>
      <p className="lead">{isRunning ? t('firstSync.running') : t('firstSync.finished')}</p>
      <div className="card">
        <table className="table">
          <caption className="visually-hidden">{t('firstSync.caption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('dash.col.database')}</th>
              <th scope="col">{t('firstSync.col.progress')}</th>
              <th scope="col" className="num">
                {t('firstSync.col.copied')}
              </th>
              <th scope="col" className="num">
                {t('dash.col.speed')}
              </th>
              <th scope="col" className="num">
                {t('dash.col.eta')}
              </th>
            </tr>
          </thead>
          <tbody>
            {databases.map((db) => {
              const p = progress[db];
              const finished = result?.databases.find((d) => d.database === db);
              const copied = finished ? finished.docs + finished.deletes : p ? p.docs + p.deletes : 0;
              // Live + deleted documents is what the changes feed delivers; the pending count is better when the server gives it.
              const info = expectedDocs?.find((d) => d.name === db);
              const total = p?.pending != null ? copied + p.pending : info ? info.docCount + info.deletedCount : null;
              const max = !finished && total && total > 0 ? Math.max(total, copied) : null;
              return (
                <tr key={db}>
                  <th scope="row">
                    <code>{db}</code>
                  </th>
                  <td>
                    {finished?.reachedEnd ? (
                      <progress value={1} max={1} aria-label={t('firstSync.progressOf', { db })} />
                    ) : max ? (
                      // Rows of the response being read count too: on a slow link the bar moves within a batch.
                      <progress
                        value={Math.min(copied + (p?.receivingRows ?? 0), max)}
                        max={max}
                        aria-label={t('firstSync.progressOf', { db })}
                      />
                    ) : (
                      <progress aria-label={t('firstSync.progressOf', { db })} />
                    )}
                  </td>
                  <td className="num">
                    {formatNumber(lang, copied)}
                    {max ? ` / ${formatNumber(lang, max)}` : ''}
                  </td>
                  <td className="num">
                    {p && !finished
                      ? p.docsPerSecond > 0 || !p.linkBytesPerSecond
                        ? `${formatNumber(lang, p.docsPerSecond)} /s`
                        : `${formatBytes(lang, p.linkBytesPerSecond)}/s`
                      : '—'}
                  </td>
                  <td className="num">{p && !finished ? formatDuration(lang, p.etaSeconds) : '—'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <div aria-live="polite">
        {result && <OutcomeNotice view={describeSyncResult(result, t, lang, 'first-sync')} hasLink={false} />}
      </div>
      {error && <ErrorNotice help={error} context={t('firstSync.failed')} />}
      {result && result.databases.some((d) => d.docs + d.deletes > 0) && (
        <p>{settings.advanced.transformAfterSync ? t('firstSync.buildingNext') : t('firstSync.nextTransforms')}</p>
      )}
      <div className="wizard-nav">
        {result && result.outcome !== 'done' ? (
          <button type="button" className="button" onClick={start}>
            {t('firstSync.again')}
          </button>
        ) : (
          <span />
        )}
        <button type="button" className="button primary" onClick={onDone}>
          {isRunning ? t('firstSync.continueInBackground') : t('firstSync.openDashboard')}
        </button>
      </div>
    </section>
  );
}
