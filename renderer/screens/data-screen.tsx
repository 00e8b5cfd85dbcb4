import { useCallback, useEffect, useState } from 'react';
import type { ConnectionInfo, TableFilter, TableInfo, TablePreview } from '../../app/contract/dto';
import { useClient } from '../client-context';
import { ErrorNotice } from '../components/error-notice';
import { Icon } from '../components/icon';
import { explainError, type ErrorHelp } from '../error-help';
import { dateInputFormat, formatAgo, formatDateTime, formatNumber, isDateType, parseDateInput } from '../format';
import { useT } from '../i18n/use-t';

const PAGE_SIZE = 50;
const CELL_MAX = 120;

export function DataScreen() {
  const client = useClient();
  const { t, lang } = useT();
  const [tables, setTables] = useState<TableInfo[] | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [error, setError] = useState<ErrorHelp | null>(null);

  useEffect(() => {
    client.invoke('data.tables', {}).then(
      (list) => {
        setTables(list);
        setSelected((cur) => cur ?? null);
      },
      (e: unknown) => setError(explainError(e, t, { place: 'data' })),
    );
  }, [client, t]);

  return (
    <>
      <div className="page-header">
        <div>
          <h1>{t('data.title')}</h1>
          <p className="muted">{t('data.intro')}</p>
        </div>
      </div>
      {error && <ErrorNotice help={error} />}
      <div className="split">
        <section className="card table-list" aria-labelledby="data-tables">
          <h2 id="data-tables">{t('data.tables')}</h2>
          {tables === null && !error && <p role="status">{t('app.loading')}</p>}
          {tables && tables.length === 0 && <p>{t('data.noTables')}</p>}
          {tables && tables.length > 0 && (
            <ul className="plain-list" data-testid="table-list">
              {tables.map((tb) => {
                const key = `${tb.schema}.${tb.name}`;
                // data.preview / data.exportCsv take the bare name: the engine reads its configured schema.
                return (
                  <li key={key}>
                    <button
                      type="button"
                      className={`table-button ${selected === tb.name ? 'is-selected' : ''}`}
                      aria-pressed={selected === tb.name}
                      onClick={() => setSelected(tb.name)}
                      data-table={key}
                    >
                      <span className="table-name">
                        <span className="muted">{tb.schema}.</span>
                        {tb.name}
                      </span>
                      <span className="table-meta">
                        {t(`data.kind.${tb.kind === 'materialized view' ? 'matview' : tb.kind}`)} ·{' '}
                        {t('data.rows', { n: formatNumber(lang, tb.rows) })}
                        {tb.freshAsOf && (
                          <>
                            {' · '}
                            <span title={formatDateTime(lang, tb.freshAsOf)}>
                              {t('data.fresh', { ago: formatAgo(lang, tb.freshAsOf) })}
                            </span>
                          </>
                        )}
                      </span>
                    </button>
                  </li>
                );
              })}
            </ul>
          )}
        </section>
        <div className="split-main">
          {selected ? (
            <TablePreviewPanel key={selected} table={selected} />
          ) : (
            <div className="card">
              <p>{t('data.pickTable')}</p>
            </div>
          )}
          <ConnectionPanel />
        </div>
      </div>
    </>
  );
}

function TablePreviewPanel({ table }: { table: string }) {
  const client = useClient();
  const { t, lang } = useT();
  const [preview, setPreview] = useState<TablePreview | null>(null);
  const [offset, setOffset] = useState(0);
  const [filter, setFilter] = useState<TableFilter | null>(null);
  const [draft, setDraft] = useState<TableFilter>({ column: '', op: 'contains', value: '' });
  const [dateProblem, setDateProblem] = useState<string | null>(null);
  const isDateColumn = isDateType(preview?.columns.find((c) => c.name === draft.column)?.type ?? '');
  const [error, setError] = useState<ErrorHelp | null>(null);
  const [exportMessage, setExportMessage] = useState<string | null>(null);
  const [isExporting, setIsExporting] = useState(false);

  const load = useCallback(async () => {
    try {
      const p = await client.invoke('data.preview', { table, offset, limit: PAGE_SIZE, ...(filter ? { filter } : {}) });
      setPreview(p);
      setError(null);
      setDraft((d) => (d.column ? d : { ...d, column: p.columns[0]?.name ?? '' }));
    } catch (e) {
      setError(explainError(e, t, { place: 'data' }));
    }
  }, [client, table, offset, filter, t]);

  useEffect(() => {
    void load();
  }, [load]);

  const exportCsv = async (useFilter: boolean, format: 'csv' | 'xlsx' = 'csv') => {
    if (isExporting) return;
    setIsExporting(true);
    setExportMessage(null);
    try {
      const args = { table, ...(useFilter && filter ? { filter } : {}) };
      // CSV keeps its formula guard; .xlsx has typed cells (text as text, dates as dates) and needs none.
      const r =
        format === 'csv'
          ? await client
              .invoke('data.exportCsv', args)
              .then((x) => ({ ...x, blob: new Blob([x.csv], { type: 'text/csv;charset=utf-8' }) }))
          : await client.invoke('data.exportXlsx', args).then((x) => ({
              ...x,
              blob: new Blob([Uint8Array.from(atob(x.base64), (c) => c.charCodeAt(0))], {
                type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
              }),
            }));
      const url = URL.createObjectURL(r.blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = r.fileName;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setExportMessage(t('data.exported', { n: formatNumber(lang, r.rows), file: r.fileName }));
    } catch (e) {
      setError(explainError(e, t, { place: 'data' }));
    } finally {
      setIsExporting(false);
    }
  };

  const from = preview && preview.total > 0 ? preview.offset + 1 : 0;
  const to = preview ? preview.offset + preview.rows.length : 0;
  return (
    <section className="card" aria-labelledby="preview-heading">
      <div className="section-header">
        <h2 id="preview-heading">
          <code>{table}</code>
        </h2>
        <div className="toolbar">
          <button
            type="button"
            className="button"
            onClick={() => void exportCsv(false)}
            aria-disabled={isExporting || undefined}
          >
            <Icon name="download" /> {t('data.exportTable')}
          </button>
          <button
            type="button"
            className="button"
            onClick={() => void exportCsv(Boolean(filter), 'xlsx')}
            aria-disabled={isExporting || undefined}
          >
            <Icon name="download" /> {filter ? t('data.exportFilteredXlsx') : t('data.exportTableXlsx')}
          </button>
          {filter && (
            <button
              type="button"
              className="button"
              onClick={() => void exportCsv(true)}
              aria-disabled={isExporting || undefined}
            >
              <Icon name="download" /> {t('data.exportFiltered')}
            </button>
          )}
        </div>
      </div>
      <div aria-live="polite">
        {exportMessage && (
          <p className="notice tone-ok" role="status">
            <Icon name="check" size={20} /> <span>{exportMessage}</span>
          </p>
        )}
      </div>
      {preview && (
        <form
          className="filters"
          aria-label={t('data.filter')}
          onSubmit={(e) => {
            e.preventDefault();
            setOffset(0);
            setDateProblem(null);
            if (draft.value.trim() === '') return setFilter(null);
            // Dates are read in the UI's format (said next to the field) and sent as ISO: never a silent day/month swap.
            if (isDateColumn && draft.op !== 'contains') {
              const iso = parseDateInput(draft.value);
              if (iso === null) return setDateProblem(t('data.filter.dateInvalid', { format: dateInputFormat(lang) }));
              return setFilter({ ...draft, value: iso });
            }
            setFilter({ ...draft, value: draft.value.trim() });
          }}
        >
          <div className="field inline">
            <label htmlFor="filter-column">{t('data.filter.column')}</label>
            <select
              id="filter-column"
              value={draft.column}
              onChange={(e) => setDraft({ ...draft, column: e.target.value })}
            >
              {preview.columns.map((c) => (
                <option key={c.name} value={c.name}>
                  {c.name}
                </option>
              ))}
            </select>
          </div>
          <div className="field inline">
            <label htmlFor="filter-op">{t('data.filter.op')}</label>
            <select
              id="filter-op"
              value={draft.op}
              onChange={(e) => setDraft({ ...draft, op: e.target.value as TableFilter['op'] })}
            >
              <option value="contains">{t('data.op.contains')}</option>
              <option value="eq">{t('data.op.eq')}</option>
              <option value="gt">{t('data.op.gt')}</option>
              <option value="lt">{t('data.op.lt')}</option>
            </select>
          </div>
          <div className="field inline">
            <label htmlFor="filter-value">{t('data.filter.value')}</label>
            <input
              id="filter-value"
              value={draft.value}
              onChange={(e) => setDraft({ ...draft, value: e.target.value })}
              spellCheck={false}
              placeholder={isDateColumn && draft.op !== 'contains' ? dateInputFormat(lang) : undefined}
              aria-describedby={isDateColumn ? 'filter-value-format' : undefined}
              aria-invalid={dateProblem ? true : undefined}
            />
            {isDateColumn && draft.op !== 'contains' && (
              <p className="hint" id="filter-value-format">
                {t('data.filter.dateFormat', { format: dateInputFormat(lang) })}
              </p>
            )}
            {dateProblem && <p className="field-error">{dateProblem}</p>}
          </div>
          <button type="submit" className="button">
            {t('data.filter.apply')}
          </button>
          {filter && (
            <button
              type="button"
              className="button"
              onClick={() => {
                setFilter(null);
                setOffset(0);
                setDraft({ ...draft, value: '' });
              }}
            >
              {t('data.filter.clear')}
            </button>
          )}
        </form>
      )}
      {error && <ErrorNotice help={error} />}
      {!preview && !error && <p role="status">{t('app.loading')}</p>}
      {preview && (
        <>
          <p className="muted" role="status" data-testid="preview-range">
            {filter
              ? t('data.rangeFiltered', {
                  from: formatNumber(lang, from),
                  to: formatNumber(lang, to),
                  total: formatNumber(lang, preview.total),
                })
              : t('data.range', {
                  from: formatNumber(lang, from),
                  to: formatNumber(lang, to),
                  total: formatNumber(lang, preview.total),
                })}
          </p>
          <div className="scroll-x" tabIndex={0} role="region" aria-label={t('data.previewRegion', { table })}>
            <table className="table compact" data-testid="preview-table">
              <thead>
                <tr>
                  {preview.columns.map((c) => (
                    <th scope="col" key={c.name} title={c.type}>
                      {c.name}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {preview.rows.map((row, i) => (
                  <tr key={preview.offset + i}>
                    {row.map((cell, j) => (
                      <td key={j} className={typeof cell === 'number' ? 'num' : undefined}>
                        {cellText(cell)}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav className="pager" aria-label={t('data.pager')}>
            <button
              type="button"
              className="button"
              disabled={offset === 0}
              onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}
            >
              ← {t('data.prev')}
            </button>
            <button
              type="button"
              className="button"
              disabled={to >= preview.total}
              onClick={() => setOffset(offset + PAGE_SIZE)}
            >
              {t('data.next')} →
            </button>
          </nav>
        </>
      )}
    </section>
  );
}

function cellText(cell: string | number | boolean | null): string {
  if (cell === null) return '∅';
  const s = String(cell);
  return s.length > CELL_MAX ? `${s.slice(0, CELL_MAX)}…` : s;
}

function ConnectionPanel() {
  const client = useClient();
  const { t } = useT();
  const [info, setInfo] = useState<ConnectionInfo | null>(null);
  const [error, setError] = useState<ErrorHelp | null>(null);
  const [copied, setCopied] = useState<string | null>(null);

  useEffect(() => {
    client.invoke('data.connection', {}).then(setInfo, (e: unknown) => setError(explainError(e, t, { place: 'data' })));
  }, [client, t]);

  const copy = async (label: string, value: string) => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(label);
    } catch {
      setCopied(null);
    }
  };

  return (
    <section className="card" aria-labelledby="conn-heading">
      <h2 id="conn-heading">{t('data.connection')}</h2>
      <p className="hint">{t('data.connection.intro')}</p>
      {error && <ErrorNotice help={error} />}
      {info && (
        <>
          <dl className="conn-grid">
            {(
              [
                [t('pg.host'), info.host],
                [t('pg.port'), String(info.port)],
                [t('pg.database'), info.database],
                [t('pg.username'), info.username],
                [t('data.schema'), info.schema],
              ] as const
            ).map(([label, value]) => (
              <div key={label}>
                <dt>{label}</dt>
                <dd>
                  <code>{value}</code>
                </dd>
              </div>
            ))}
            <div className="conn-password">
              <dt>{t('pg.password')}</dt>
              <dd>{info.passwordHint}</dd>
            </div>
          </dl>
          <div className="copy-rows">
            {(
              [
                ['psql', `psql "${info.url}"`],
                ['Superset / SQLAlchemy', info.url.replace(/^postgres(ql)?:/, 'postgresql+psycopg2:')],
                ['URL', info.url],
              ] as const
            ).map(([label, value]) => (
              <div className="copy-row" key={label}>
                <span className="copy-label">{label}</span>
                <code className="copy-value">{value}</code>
                <button
                  type="button"
                  className="button small"
                  onClick={() => void copy(label, value)}
                  aria-label={t('data.copyThe', { what: label })}
                >
                  <Icon name="copy" /> {t('action.copy')}
                </button>
              </div>
            ))}
          </div>
          <p className="hint">{t('data.metabaseHint')}</p>
          <p aria-live="polite" className="small">
            {copied ? t('data.copied', { what: copied }) : ''}
          </p>
        </>
      )}
    </section>
  );
}
