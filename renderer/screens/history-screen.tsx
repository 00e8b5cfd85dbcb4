import { useCallback, useEffect, useState } from 'react';
import type { RunKind, RunOutcome, RunSummary } from '../../app/contract/dto';
import { useClient } from '../client-context';
import { ErrorNotice } from '../components/error-notice';
import { OutcomeBadge } from '../components/outcome-badge';
import { runSummaryText } from '../describe-outcome';
import { explainError, type ErrorHelp } from '../error-help';
import { formatDateTime, formatDuration, runSeconds } from '../format';
import { useEvent } from '../hooks/use-event';
import { useT } from '../i18n/use-t';
import { RunDetailView } from './run-detail';

const OUTCOMES: RunOutcome[] = ['running', 'done', 'partial', 'offline', 'timeout', 'refused', 'failed', 'cancelled'];
const PAGE = 50;

export function HistoryScreen({ runId }: { runId: number | null }) {
  return runId === null ? <RunList /> : <RunDetailView runId={runId} />;
}

function RunList() {
  const client = useClient();
  const { t, lang } = useT();
  const [kind, setKind] = useState<RunKind | ''>('');
  const [outcome, setOutcome] = useState<RunOutcome | ''>('');
  const [runs, setRuns] = useState<RunSummary[] | null>(null);
  const [hasMore, setHasMore] = useState(false);
  const [error, setError] = useState<ErrorHelp | null>(null);

  const load = useCallback(
    async (beforeId?: number) => {
      try {
        const page = await client.invoke('runs.list', {
          limit: PAGE,
          ...(kind ? { kind } : {}),
          ...(outcome ? { outcome } : {}),
          ...(beforeId !== undefined ? { beforeId } : {}),
        });
        setRuns((prev) => (beforeId !== undefined && prev ? [...prev, ...page] : page));
        setHasMore(page.length === PAGE);
        setError(null);
      } catch (e) {
        setError(explainError(e, t, { place: 'history' }));
      }
    },
    [client, kind, outcome, t],
  );

  useEffect(() => {
    void load();
  }, [load]);
  useEvent('run.finished', () => void load());
  useEvent('run.started', () => void load());

  return (
    <>
      <div className="page-header">
        <h1>{t('history.title')}</h1>
      </div>
      <form className="filters" aria-label={t('history.filters')} onSubmit={(e) => e.preventDefault()}>
        <div className="field inline">
          <label htmlFor="filter-kind">{t('history.kind')}</label>
          <select id="filter-kind" value={kind} onChange={(e) => setKind(e.target.value as RunKind | '')}>
            <option value="">{t('history.all')}</option>
            <option value="sync">{t('history.kind.sync')}</option>
            <option value="transform">{t('history.kind.transform')}</option>
            <option value="verify">{t('history.kind.verify')}</option>
          </select>
        </div>
        <div className="field inline">
          <label htmlFor="filter-outcome">{t('history.outcome')}</label>
          <select id="filter-outcome" value={outcome} onChange={(e) => setOutcome(e.target.value as RunOutcome | '')}>
            <option value="">{t('history.all')}</option>
            {OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {t(`outcome.${o}`)}
              </option>
            ))}
          </select>
        </div>
      </form>
      {error && <ErrorNotice help={error} />}
      <section className="card">
        {runs === null ? (
          <p role="status">{t('app.loading')}</p>
        ) : runs.length === 0 ? (
          <p>{kind || outcome ? t('history.emptyFiltered') : t('history.empty')}</p>
        ) : (
          <table className="table" data-testid="runs-table">
            <caption className="visually-hidden">{t('history.caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('history.col.run')}</th>
                <th scope="col">{t('history.kind')}</th>
                <th scope="col">{t('history.outcome')}</th>
                <th scope="col">{t('history.col.started')}</th>
                <th scope="col" className="num">
                  {t('history.col.duration')}
                </th>
                <th scope="col">{t('history.col.summary')}</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.id} data-run-id={r.id} data-kind={r.kind}>
                  <th scope="row">
                    <a href={`#/history/${r.id}`} aria-label={t('history.openRun', { id: r.id })}>
                      #{r.id}
                    </a>
                  </th>
                  <td>
                    {t(`history.kind.${r.kind}`)} <span className="muted small">· {t(`trigger.${r.trigger}`)}</span>
                  </td>
                  <td>
                    <OutcomeBadge outcome={r.outcome} />
                  </td>
                  <td>{formatDateTime(lang, r.startedAt)}</td>
                  <td className="num">{formatDuration(lang, runSeconds(r.startedAt, r.finishedAt))}</td>
                  <td className={`summary-cell ${r.errorCount > 0 ? 'has-errors' : ''}`}>
                    {runSummaryText(r, t, lang)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {hasMore && runs && runs.length > 0 && (
          <button type="button" className="button" onClick={() => void load(runs[runs.length - 1]?.id)}>
            {t('history.more')}
          </button>
        )}
      </section>
    </>
  );
}
