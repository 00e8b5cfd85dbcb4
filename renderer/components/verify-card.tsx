import { useState } from 'react';
import type { VerifyRunResult } from '../../app/contract/dto';
import { useClient } from '../client-context';
import { explainError, type ErrorHelp } from '../error-help';
import { formatNumber } from '../format';
import { useT } from '../i18n/use-t';
import { ErrorNotice } from './error-notice';
import { Icon } from './icon';

/**
 * "Check for missing or extra records": the raw table against the server's ids and revisions
 * (no documents downloaded), then "Fix them" when something was found. Both are runs in history.
 */
export function VerifyCard() {
  const client = useClient();
  const { t, lang } = useT();
  const [busy, setBusy] = useState<'check' | 'fix' | null>(null);
  const [result, setResult] = useState<VerifyRunResult | null>(null);
  const [error, setError] = useState<ErrorHelp | null>(null);

  const run = async (fix: boolean) => {
    setBusy(fix ? 'fix' : 'check');
    setError(null);
    try {
      setResult(await client.invoke('sync.verify', { fix }));
    } catch (e) {
      setError(explainError(e, t, { place: 'dashboard' }));
    } finally {
      setBusy(null);
    }
  };

  const sum = (k: 'missing' | 'stale' | 'purged' | 'outOfScope' | 'fetched' | 'marked') =>
    result?.databases.reduce((n, d) => n + d[k], 0) ?? 0;
  const found = sum('missing') + sum('stale') + sum('purged') + sum('outOfScope');
  const failed = result?.databases.filter((d) => d.outcome !== 'done') ?? [];
  return (
    <section className="card" aria-labelledby="dash-verify">
      <h2 id="dash-verify">{t('verify.title')}</h2>
      <p className="muted small">{t('verify.explain')}</p>
      <div className="toolbar">
        <button type="button" className="button" onClick={() => void run(false)} disabled={busy !== null}>
          <Icon name="check" /> {busy === 'check' ? t('verify.checking') : t('verify.check')}
        </button>
        {result && !result.isFix && found > 0 && (
          <button type="button" className="button primary" onClick={() => void run(true)} disabled={busy !== null}>
            <Icon name="sync" /> {busy === 'fix' ? t('verify.fixing') : t('verify.fix')}
          </button>
        )}
      </div>
      <div aria-live="polite" data-testid="verify-result">
        {result && (
          <p>
            {result.isFix
              ? t('verify.fixed', {
                  fetched: formatNumber(lang, sum('fetched')),
                  marked: formatNumber(lang, sum('marked')),
                })
              : found === 0
                ? t('verify.clean')
                : t('verify.found', {
                    missing: formatNumber(lang, sum('missing')),
                    stale: formatNumber(lang, sum('stale')),
                    purged: formatNumber(lang, sum('purged')),
                    outOfScope: formatNumber(lang, sum('outOfScope')),
                  })}{' '}
            {failed.map((d) => `${d.database}: ${t(`outcome.${d.outcome}`)}`).join(', ')}{' '}
            <a href={`#/history/${result.runId}`}>{t('outcome.seeDetails')}</a>
          </p>
        )}
      </div>
      {error && <ErrorNotice help={error} />}
    </section>
  );
}
