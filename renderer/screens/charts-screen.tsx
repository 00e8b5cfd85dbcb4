import { useEffect, useState } from 'react';
import type { ChartData, ChartName } from '../../app/contract/dto';
import { useClient } from '../client-context';
import { Chart, chartEmptyText } from '../components/chart';
import { ErrorNotice } from '../components/error-notice';
import { explainError, type ErrorHelp } from '../error-help';
import { formatNumber } from '../format';
import type { MessageKey } from '../i18n/catalogue';
import { useT } from '../i18n/use-t';

const CHARTS: {
  chart: ChartName;
  title: MessageKey;
  intro: MessageKey;
  yLabel: MessageKey;
  variant: 'line' | 'stacked';
}[] = [
  {
    chart: 'reports-per-form-week',
    title: 'charts.reports.title',
    intro: 'charts.reports.intro',
    yLabel: 'charts.reports.y',
    variant: 'stacked',
  },
  {
    chart: 'contacts-per-week',
    title: 'charts.contacts.title',
    intro: 'charts.contacts.intro',
    yLabel: 'charts.contacts.y',
    variant: 'stacked',
  },
  {
    chart: 'sync-throughput',
    title: 'charts.sync.title',
    intro: 'charts.sync.intro',
    yLabel: 'charts.sync.y',
    variant: 'line',
  },
];

export function ChartsScreen() {
  const { t } = useT();
  return (
    <>
      <div className="page-header">
        <div>
          <h1>{t('charts.title')}</h1>
          <p className="muted">{t('charts.intro')}</p>
        </div>
      </div>
      {CHARTS.map((c) => (
        <ChartCard key={c.chart} {...c} />
      ))}
    </>
  );
}

function ChartCard({ chart, title, intro, yLabel, variant }: (typeof CHARTS)[number]) {
  const client = useClient();
  const { t, lang } = useT();
  const [data, setData] = useState<ChartData | null>(null);
  const [error, setError] = useState<ErrorHelp | null>(null);
  useEffect(() => {
    client
      .invoke('data.chart', { chart })
      .then(setData, (e: unknown) => setError(explainError(e, t, { place: 'charts' })));
  }, [client, chart, t]);
  const headingId = `chart-${chart}`;
  const isEmpty = data !== null && data.series.every((s) => s.points.length === 0);
  const total = data ? data.series.reduce((n, s) => n + s.points.reduce((m, p) => m + p.y, 0), 0) : 0;
  return (
    <section className="card" aria-labelledby={headingId} data-chart={chart}>
      <h2 id={headingId}>{t(title)}</h2>
      <p className="hint">{t(intro)}</p>
      {error && <ErrorNotice help={error} />}
      {!data && !error && <p role="status">{t('app.loading')}</p>}
      {data && isEmpty && <p className="empty-chart">{chartEmptyText(data.emptyReason, t)}</p>}
      {data && !isEmpty && (
        <Chart
          series={data.series}
          variant={variant}
          yLabel={t(yLabel)}
          summary={t('charts.summary', {
            title: t(title),
            series: data.series.length,
            total: formatNumber(lang, total),
          })}
        />
      )}
    </section>
  );
}
