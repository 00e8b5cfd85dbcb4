import { useEffect, useState } from 'react';
import type { ModelRunResult, RunDetail } from '../../app/contract/dto';
import { useClient } from '../client-context';
import { Badge } from '../components/badge';
import { ErrorNotice } from '../components/error-notice';
import { Icon } from '../components/icon';
import { OutcomeBadge } from '../components/outcome-badge';
import type { Tone } from '../describe-state';
import { runSummaryText } from '../describe-outcome';
import { explainError, shortReason, type ErrorHelp } from '../error-help';
import { formatBytes, formatDateTime, formatDuration, formatNumber, runSeconds } from '../format';
import { useEvent } from '../hooks/use-event';
import { useT } from '../i18n/use-t';
import { materializedLabel } from '../materialized';
import {
  describeModelError,
  refreshReasonText,
  skipReasonText,
  testDescription,
  testRule,
  transformWarningText,
} from '../run-texts';

const MODEL_TONE: Record<ModelRunResult['status'], Tone> = {
  success: 'ok',
  error: 'bad',
  skipped: 'warn',
  running: 'busy',
  pending: 'neutral',
  pass: 'ok',
  fail: 'bad',
  warn: 'warn',
};
const MAX_SKIPPED_SHOWN = 200;

/** A failed or warning test: dbt's message, then the failing rows and their query one click away. */
function TestFailure({ m }: { m: ModelRunResult }) {
  const { t, lang } = useT();
  const rows = m.failingRows ?? [];
  const rule = testRule(m, t);
  const cols = rows.length ? Object.keys(rows[0]!) : [];
  return (
    <div className={m.status === 'fail' ? 'tone-text-bad' : undefined}>
      {m.failures !== undefined && <div>{t('detail.testFailures', { count: formatNumber(lang, m.failures) })}</div>}
      {rule && <div className="small">{rule}</div>}
      {(rows.length > 0 || m.failingSql) && (
        <details>
          <summary>{t('detail.testShowRows')}</summary>
          {rows.length > 0 && (
            <table className="table">
              <thead>
                <tr>
                  {cols.map((c) => (
                    <th key={c} scope="col">
                      {c}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map((r, i) => (
                  <tr key={i}>
                    {cols.map((c) => (
                      <td key={c}>
                        {r[c] === null || r[c] === undefined
                          ? '∅'
                          : typeof r[c] === 'object'
                            ? JSON.stringify(r[c])
                            : String(r[c])}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {m.failingSql && (
            <div className="small">
              {t('detail.testQuery')}
              <pre>
                <code>{m.failingSql}</code>
              </pre>
            </div>
          )}
        </details>
      )}
    </div>
  );
}

/**
 * A model's, test's or hook's error: our sentence from the catalogue, PostgreSQL's own message and
 * hint as it wrote them, the file and line; an engine message we have no words for stays folded as
 * English technical detail.
 */
function ModelError({ error }: { error: NonNullable<ModelRunResult['error']> }) {
  const { t } = useT();
  const v = describeModelError(error, t);
  const where = error.details;
  return (
    <div className="tone-text-bad">
      <div>{v.line}</div>
      {v.postgres && (
        <div className="small">
          {t('detail.pgSaid')} <code className="evidence">{v.postgres}</code>
        </div>
      )}
      {v.hint && (
        <div className="small">
          {t('detail.pgHint')} <code className="evidence">{v.hint}</code>
        </div>
      )}
      {(where?.file || where?.line) && (
        <div className="small">
          <code>
            {where.file ?? ''}
            {where.line ? `:${where.line}` : ''}
          </code>
        </div>
      )}
      {v.detail && <TechnicalDetail text={v.detail} />}
    </div>
  );
}

/** The engine's own message (English, technical): folded, and labelled as English in another language. */
function TechnicalDetail({ text }: { text: string }) {
  const { t, lang } = useT();
  return (
    <details className="technical">
      <summary>{lang === 'en' ? t('error.details') : t('error.detailsLanguage')}</summary>
      <p className="small">{text}</p>
    </details>
  );
}

export function RunDetailView({ runId }: { runId: number }) {
  const client = useClient();
  const { t, lang } = useT();
  const [run, setRun] = useState<RunDetail | null>(null);
  const [error, setError] = useState<ErrorHelp | null>(null);
  const [copyState, setCopyState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const [fallbackReport, setFallbackReport] = useState<string | null>(null);

  useEffect(() => {
    let isCurrent = true;
    setRun(null);
    client.invoke('runs.get', { id: runId }).then(
      (r) => isCurrent && setRun(r),
      (e: unknown) => isCurrent && setError(explainError(e, t, { place: 'history' })),
    );
    return () => {
      isCurrent = false;
    };
  }, [client, runId, t]);
  useEvent('run.finished', (r) => {
    if (r.id === runId) void client.invoke('runs.get', { id: runId }).then(setRun, () => undefined);
  });

  const copyDiagnostics = async () => {
    setCopyState('idle');
    setFallbackReport(null);
    try {
      const { report } = await client.invoke('runs.diagnostics', { id: runId });
      try {
        await navigator.clipboard.writeText(report);
        setCopyState('copied');
      } catch {
        // No clipboard permission (e.g. an insecure origin): show it to copy by hand.
        setFallbackReport(report);
        setCopyState('failed');
      }
    } catch (e) {
      setError(explainError(e, t, { place: 'history' }));
    }
  };

  const skipped = run?.databases?.flatMap((d) => d.skipped.map((s) => ({ ...s, database: d.database }))) ?? [];
  return (
    <>
      <p>
        <a href="#/history">← {t('history.back')}</a>
      </p>
      {error && <ErrorNotice help={error} />}
      {!run && !error && <p role="status">{t('app.loading')}</p>}
      {run && (
        <>
          <div className="page-header">
            <div>
              <h1>{t('detail.title', { id: run.id, kind: t(`history.kind.${run.kind}`) })}</h1>
              <p className="detail-meta">
                <OutcomeBadge outcome={run.outcome} /> <span>{t(`trigger.${run.trigger}`)}</span> ·{' '}
                <span>{formatDateTime(lang, run.startedAt)}</span> ·{' '}
                <span>{formatDuration(lang, runSeconds(run.startedAt, run.finishedAt))}</span>
              </p>
              <p>{runSummaryText(run, t, lang)}</p>
            </div>
            <div className="toolbar">
              <button type="button" className="button" onClick={() => void copyDiagnostics()}>
                <Icon name="copy" /> {t('detail.copyDiagnostics')}
              </button>
            </div>
          </div>
          <div aria-live="polite">
            {copyState === 'copied' && (
              <p className="notice tone-ok" role="status">
                <Icon name="check" size={20} /> <span>{t('detail.copied')}</span>
              </p>
            )}
          </div>
          {fallbackReport !== null && (
            <div className="card">
              <label htmlFor="diag-report">{t('detail.copyByHand')}</label>
              <textarea
                id="diag-report"
                className="report"
                readOnly
                value={fallbackReport}
                rows={10}
                onFocus={(e) => e.currentTarget.select()}
              />
            </div>
          )}
          {run.error && (
            <ErrorNotice help={explainError(run.error, t, { place: 'history' })} context={t('detail.runError')} />
          )}

          {run.verify && run.verify.length > 0 && (
            <section className="card" aria-labelledby="detail-verify">
              <h2 id="detail-verify">{t('detail.verify')}</h2>
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">{t('dash.col.database')}</th>
                    <th scope="col">{t('history.outcome')}</th>
                    <th scope="col" className="num">
                      {t('detail.col.serverDocs')}
                    </th>
                    <th scope="col" className="num">
                      {t('detail.col.pgRows')}
                    </th>
                    <th scope="col" className="num">
                      {t('detail.col.missing')}
                    </th>
                    <th scope="col" className="num">
                      {t('detail.col.stale')}
                    </th>
                    <th scope="col" className="num">
                      {t('detail.col.purged')}
                    </th>
                    <th scope="col" className="num">
                      {t('detail.col.outOfScope')}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {run.verify.map((d) => {
                    const examples = [
                      ...d.samples.missing,
                      ...d.samples.stale,
                      ...d.samples.purged,
                      ...d.samples.outOfScope,
                    ].slice(0, 5);
                    return (
                      <tr key={d.database}>
                        <th scope="row">
                          <code>{d.database}</code>
                          {d.error && (
                            <div className="cell-detail tone-text-bad">
                              {shortReason(d.error, t)}
                              <TechnicalDetail text={d.error.message} />
                            </div>
                          )}
                          {examples.length > 0 && (
                            <div className="cell-detail">
                              {t('detail.verify.examples', { ids: examples.join(', ') })}
                            </div>
                          )}
                        </th>
                        <td>
                          <OutcomeBadge outcome={d.outcome} />
                        </td>
                        <td className="num">{formatNumber(lang, d.serverDocs)}</td>
                        <td className="num">{formatNumber(lang, d.rows)}</td>
                        <td className="num">{formatNumber(lang, d.missing)}</td>
                        <td className="num">{formatNumber(lang, d.stale)}</td>
                        <td className="num">{formatNumber(lang, d.purged)}</td>
                        <td className="num">{formatNumber(lang, d.outOfScope)}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
              {run.verify.some((d) => d.fetched + d.marked > 0) ? (
                <p>
                  {t('detail.verify.fixed', {
                    fetched: formatNumber(
                      lang,
                      run.verify.reduce((n, d) => n + d.fetched, 0),
                    ),
                    marked: formatNumber(
                      lang,
                      run.verify.reduce((n, d) => n + d.marked, 0),
                    ),
                  })}
                </p>
              ) : run.count > 0 ? (
                <p>{t('detail.verify.notFixed')}</p>
              ) : null}
            </section>
          )}

          {run.databases && run.databases.length > 0 && (
            <section className="card" aria-labelledby="detail-dbs">
              <h2 id="detail-dbs">{t('detail.databases')}</h2>
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">{t('dash.col.database')}</th>
                    <th scope="col">{t('history.outcome')}</th>
                    <th scope="col" className="num">
                      {t('detail.col.docs')}
                    </th>
                    <th scope="col" className="num">
                      {t('detail.col.deletes')}
                    </th>
                    <th scope="col" className="num">
                      {t('detail.col.skipped')}
                    </th>
                    <th scope="col" className="num">
                      {t('detail.col.size')}
                    </th>
                    <th scope="col" className="num">
                      {t('history.col.duration')}
                    </th>
                    <th scope="col">{t('detail.col.position')}</th>
                  </tr>
                </thead>
                <tbody>
                  {run.databases.map((d) => (
                    <tr key={d.database}>
                      <th scope="row">
                        <code>{d.database}</code>
                        {d.error && (
                          <div className="cell-detail tone-text-bad">
                            {shortReason(d.error, t)}
                            <TechnicalDetail text={d.error.message} />
                          </div>
                        )}
                      </th>
                      <td>
                        <OutcomeBadge outcome={d.outcome} />
                        {!d.reachedEnd && d.outcome !== 'running' && (
                          <div className="cell-detail">{t('detail.notAtEnd')}</div>
                        )}
                      </td>
                      <td className="num">{formatNumber(lang, d.docs)}</td>
                      <td className="num">{formatNumber(lang, d.deletes)}</td>
                      <td className="num">{formatNumber(lang, d.skipped.length)}</td>
                      <td className="num">{formatBytes(lang, d.bytes)}</td>
                      <td className="num">{formatDuration(lang, d.seconds)}</td>
                      <td className="small">
                        <code>{d.seqBefore ? short(d.seqBefore) : t('detail.start')}</code> →{' '}
                        <code>{d.seqAfter ? short(d.seqAfter) : '—'}</code>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          )}

          {skipped.length > 0 && (
            <section className="card" aria-labelledby="detail-skipped">
              <h2 id="detail-skipped">{t('detail.skipped', { n: formatNumber(lang, skipped.length) })}</h2>
              <p className="hint">{t('detail.skipped.hint')}</p>
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">{t('dash.col.database')}</th>
                    <th scope="col">{t('detail.col.docId')}</th>
                    <th scope="col">{t('detail.col.reason')}</th>
                  </tr>
                </thead>
                <tbody>
                  {skipped.slice(0, MAX_SKIPPED_SHOWN).map((s) => (
                    <tr key={`${s.database}/${s.id}`}>
                      <td>
                        <code>{s.database}</code>
                      </td>
                      <td>
                        <code>{s.id}</code>
                      </td>
                      <td>{skipReasonText(s.reason, t)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {skipped.length > MAX_SKIPPED_SHOWN && (
                <p className="hint">{t('detail.skipped.more', { n: skipped.length - MAX_SKIPPED_SHOWN })}</p>
              )}
            </section>
          )}

          {run.models && run.models.length > 0 && (
            <section className="card" aria-labelledby="detail-models">
              <h2 id="detail-models">{t('detail.models')}</h2>
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">{t('detail.col.model')}</th>
                    <th scope="col">{t('detail.col.kind')}</th>
                    <th scope="col">{t('detail.col.status')}</th>
                    <th scope="col" className="num">
                      {t('detail.col.rows')}
                    </th>
                    <th scope="col" className="num">
                      {t('history.col.duration')}
                    </th>
                    <th scope="col">{t('detail.col.notes')}</th>
                  </tr>
                </thead>
                <tbody>
                  {run.models.map((m) => (
                    <tr key={m.uniqueId}>
                      <th scope="row">
                        <code>{m.model}</code>
                      </th>
                      <td>{materializedLabel(m.materialized, t)}</td>
                      <td>
                        <Badge
                          tone={MODEL_TONE[m.status]}
                          icon={
                            m.status === 'success' || m.status === 'pass'
                              ? 'check'
                              : m.status === 'error' || m.status === 'fail'
                                ? 'cross'
                                : m.status === 'skipped' || m.status === 'warn'
                                  ? 'alert'
                                  : 'idle'
                          }
                        >
                          {t(`model.${m.status}`)}
                        </Badge>
                      </td>
                      <td className="num">{formatNumber(lang, m.rowsAffected)}</td>
                      <td className="num">{formatDuration(lang, m.seconds)}</td>
                      <td className="notes-cell">
                        {m.error && <ModelError error={m.error} />}
                        {m.description && <div>{testDescription(m.description, t)}</div>}
                        {(m.status === 'fail' || m.status === 'warn') && <TestFailure m={m} />}
                        {m.skippedBecause && <div>{t('detail.skippedBecause', { model: m.skippedBecause })}</div>}
                        {m.refreshReason && (
                          <div className="muted">
                            {t('detail.refreshed', { reason: refreshReasonText(m.refreshReason, t) })}
                          </div>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          )}

          {run.warnings && run.warnings.length > 0 && (
            <section className="card" aria-labelledby="detail-warnings">
              <h2 id="detail-warnings">{t('detail.warnings')}</h2>
              <Warnings warnings={run.warnings} />
            </section>
          )}
        </>
      )}
    </>
  );
}

/** A transform run's warnings: ours in the UI's language, the others marked as shown as written. */
function Warnings({ warnings }: { warnings: string[] }) {
  const { t } = useT();
  const shown = warnings.map((w) => transformWarningText(w, t));
  return (
    <>
      {shown.some((w) => w.asWritten) && <p className="hint">{t('warning.asWritten')}</p>}
      <ul>
        {shown.map((w, i) => (
          <li key={i}>
            {w.text}
            {w.asWritten && <span className="muted small"> ({t('warning.asWrittenTag')})</span>}
          </li>
        ))}
      </ul>
    </>
  );
}

/** CouchDB seqs are long opaque strings: show the start only (never parsed). */
function short(seq: string): string {
  return seq.length > 14 ? `${seq.slice(0, 12)}…` : seq;
}
