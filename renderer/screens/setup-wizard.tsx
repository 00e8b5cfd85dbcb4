import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { CouchTestResult, Estimate, SettingsView } from '../../app/contract/dto';
import { useClient } from '../client-context';
import { ErrorNotice } from '../components/error-notice';
import { PlaceChooser } from '../components/place-chooser';
import { Icon } from '../components/icon';
import {
  isPipelineDraftComplete,
  PipelineForm,
  pipelineDraftFrom,
  pipelineInput,
  type PipelineDraft,
} from '../components/pipeline-form';
import {
  isPostgresDraftComplete,
  PostgresForm,
  postgresDraftFrom,
  postgresInput,
  type PostgresDraft,
} from '../components/postgres-form';
import {
  isScheduleDraftComplete,
  ScheduleForm,
  scheduleDraftFrom,
  scheduleInput,
  type ScheduleDraft,
} from '../components/schedule-form';
import { TextField } from '../components/text-field';
import { explainError, toWire, urlHints, type ErrorHelp } from '../error-help';
import { displayUrl, formatBytes, formatDuration, formatNumber } from '../format';
import type { MessageKey } from '../i18n/catalogue';
import { useT } from '../i18n/use-t';
import { FirstSync } from './first-sync';

type Step = 'connect' | 'databases' | 'scope' | 'postgres' | 'pipeline' | 'schedule' | 'review';
const STEPS: { step: Step; key: MessageKey }[] = [
  { step: 'connect', key: 'wizard.step.connect' },
  { step: 'databases', key: 'wizard.step.databases' },
  { step: 'scope', key: 'wizard.step.scope' },
  { step: 'postgres', key: 'wizard.step.postgres' },
  { step: 'pipeline', key: 'wizard.step.pipeline' },
  { step: 'schedule', key: 'wizard.step.schedule' },
  { step: 'review', key: 'wizard.step.review' },
];

/** First run: connect, choose, estimate, store — then the first sync with live progress. */
export function SetupWizard({
  settings,
  onFinished,
}: {
  settings: SettingsView;
  onFinished: (s: SettingsView) => void;
}) {
  const client = useClient();
  const { t, lang, setLang } = useT();
  const [step, setStep] = useState<Step>('connect');
  const headingRef = useRef<HTMLHeadingElement>(null);

  const [url, setUrl] = useState(settings.couch.url ?? '');
  const [username, setUsername] = useState(settings.couch.username ?? '');
  const [password, setPassword] = useState('');
  const [testing, setTesting] = useState(false);
  const [couch, setCouch] = useState<CouchTestResult | null>(null);
  const [couchError, setCouchError] = useState<ErrorHelp | null>(null);
  /** The self-signed certificate the user chose to trust for this address, and one the server presents that they could. */
  const [trusted, setTrusted] = useState<string | null>(settings.couch.trustedFingerprint256);
  const [offeredCertificate, setOfferedCertificate] = useState<string | null>(null);

  const [selected, setSelected] = useState<string[]>([]);
  const [scope, setScope] = useState<string[]>(settings.couch.scope);
  // A district leaves out the databases whose documents carry no lineage (the engine refuses them with a scope).
  const copied = scope.length > 0 ? selected.filter((d) => !/-(sentinel|logs|audit|archive|vault)$/.test(d)) : selected;
  const [estimate, setEstimate] = useState<Estimate | null>(null);
  const [estimateError, setEstimateError] = useState<ErrorHelp | null>(null);

  const [pg, setPg] = useState<PostgresDraft>(() =>
    postgresDraftFrom(settings.isSetupComplete ? settings.postgres : null),
  );
  const [pgTested, setPgTested] = useState(false);
  const [pipeline, setPipeline] = useState<PipelineDraft>(() => pipelineDraftFrom(settings.pipeline));
  const [schedule, setSchedule] = useState<ScheduleDraft>(() => scheduleDraftFrom(settings.schedule));

  const [finishing, setFinishing] = useState(false);
  const [finishError, setFinishError] = useState<ErrorHelp | null>(null);
  const [completed, setCompleted] = useState<SettingsView | null>(null);

  const creds = (trust = trusted) => ({
    url: url.trim(),
    ...(username.trim() ? { username: username.trim() } : {}),
    ...(password ? { password } : {}),
    ...(trust ? { trustedFingerprint256: trust } : {}),
  });

  const goTo = (next: Step) => {
    setStep(next);
    // The heading names the step: focusing it tells screen readers where they are.
    requestAnimationFrame(() => headingRef.current?.focus());
  };

  const testCouch = async (trust = trusted) => {
    if (testing) return;
    setTesting(true);
    setCouch(null);
    setCouchError(null);
    setOfferedCertificate(null);
    try {
      const result = await client.invoke('setup.testCouch', creds(trust));
      setCouch(result);
      setSelected(result.databases.filter((d) => d.isUsual).map((d) => d.name));
    } catch (e) {
      const { code, details } = toWire(e);
      const presented = details?.fingerprint256;
      const isChanged = details?.trustedFingerprintMismatch === true;
      if (code === 'COUCH_TLS' && typeof presented === 'string' && (details?.isSelfSigned === true || isChanged)) {
        setOfferedCertificate(presented);
        // A first self-signed certificate: the offer below says it all. A changed one: the error warns first.
        if (!isChanged) return;
      }
      // Address hints are already shown under the field while typing: not repeated here.
      setCouchError(explainError(e, t, { place: 'wizard-couch', couchUrl: url }));
    } finally {
      setTesting(false);
    }
  };

  const trustAndRetry = (fingerprint: string) => {
    setTrusted(fingerprint);
    void testCouch(fingerprint);
  };

  // Re-estimate whenever the selection changes on the databases step.
  useEffect(() => {
    // Kept when leaving the step: the review shows it too.
    if (step !== 'databases') return;
    if (selected.length === 0) {
      setEstimate(null);
      return;
    }
    let isCurrent = true;
    setEstimateError(null);
    const args = { ...creds(), databases: selected };
    client.invoke('setup.estimate', args).then(
      (e) => isCurrent && setEstimate(e),
      (e: unknown) => isCurrent && setEstimateError(explainError(e, t, { place: 'wizard', couchUrl: url })),
    );
    return () => {
      isCurrent = false;
    };
  }, [step, selected, client, url, username, password, trusted, t]);

  const finish = async () => {
    setFinishing(true);
    setFinishError(null);
    try {
      const s = await client.invoke('setup.complete', {
        couch: { ...creds(), databases: copied, scope },
        postgres: postgresInput(pg),
        pipeline: pipelineInput(pipeline),
        schedule: scheduleInput(schedule),
        language: lang,
      });
      setCompleted(s);
      // The view becomes "First sync": focus its heading rather than losing it with the Finish button.
      requestAnimationFrame(() => headingRef.current?.focus());
    } catch (e) {
      setFinishError(explainError(e, t, { place: 'wizard', couchUrl: url }));
    } finally {
      setFinishing(false);
    }
  };

  const useDemo = async () => {
    setFinishing(true);
    setFinishError(null);
    try {
      const s = await client.invoke('setup.useDemo', {});
      setCompleted(s);
      requestAnimationFrame(() => headingRef.current?.focus());
    } catch (e) {
      setFinishError(explainError(e, t, { place: 'wizard' }));
    } finally {
      setFinishing(false);
    }
  };

  if (completed) {
    return (
      <WizardFrame title={t('wizard.firstSync.title')} headingRef={headingRef}>
        <FirstSync settings={completed} expectedDocs={couch?.databases} onDone={() => onFinished(completed)} />
      </WizardFrame>
    );
  }

  const stepIndex = STEPS.findIndex((s) => s.step === step);
  const canNext =
    (step === 'connect' && couch !== null) ||
    (step === 'databases' && selected.length > 0) ||
    step === 'scope' ||
    (step === 'postgres' && isPostgresDraftComplete(pg) && (pg.kind === 'embedded' || pgTested)) ||
    (step === 'pipeline' && isPipelineDraftComplete(pipeline)) ||
    (step === 'schedule' && isScheduleDraftComplete(schedule));
  const nextStep = STEPS[stepIndex + 1]?.step;
  const prevStep = STEPS[stepIndex - 1]?.step;
  const hints = url.trim() ? urlHints(url.trim(), t) : [];

  return (
    <WizardFrame
      title={t(STEPS[stepIndex]?.key ?? 'wizard.step.connect')}
      headingRef={headingRef}
      aside={
        <div className="lang-switch">
          <label htmlFor="wizard-lang">{t('settings.language')}</label>
          <select id="wizard-lang" value={lang} onChange={(e) => setLang(e.target.value === 'fr' ? 'fr' : 'en')}>
            <option value="en">English</option>
            <option value="fr">Français</option>
          </select>
        </div>
      }
    >
      <ol className="steps" aria-label={t('wizard.progress')}>
        {STEPS.map((s, i) => (
          <li
            key={s.step}
            aria-current={s.step === step ? 'step' : undefined}
            className={i < stepIndex ? 'is-done' : ''}
          >
            <span className="step-number" aria-hidden="true">
              {i < stepIndex ? '✓' : i + 1}
            </span>
            <span>{t(s.key)}</span>
            {i < stepIndex && <span className="visually-hidden"> ({t('wizard.stepDone')})</span>}
          </li>
        ))}
      </ol>

      {step === 'connect' && (
        <section aria-labelledby="wizard-heading">
          <p className="lead">{t('wizard.connect.intro')}</p>
          <form
            className="card"
            onSubmit={(e) => {
              e.preventDefault();
              void testCouch();
            }}
          >
            <TextField
              label={t('wizard.url')}
              hint={t('wizard.url.hint')}
              value={url}
              onValue={(v) => {
                setUrl(v);
                setCouch(null);
                // a trusted certificate belongs to one server
                setTrusted(null);
              }}
              type="url"
              placeholder="https://my-project.app.medicmobile.org"
              autoComplete="url"
              spellCheck={false}
              required
            />
            {hints.length > 0 && (
              <ul className="inline-hints" aria-live="polite">
                {hints.map((h) => (
                  <li key={h}>{h}</li>
                ))}
              </ul>
            )}
            <div className="form-grid">
              <TextField
                label={t('wizard.username')}
                value={username}
                onValue={(v) => {
                  setUsername(v);
                  setCouch(null);
                }}
                autoComplete="username"
                spellCheck={false}
              />
              <TextField
                label={t('wizard.password')}
                value={password}
                onValue={(v) => {
                  setPassword(v);
                  setCouch(null);
                }}
                type="password"
                autoComplete="current-password"
              />
            </div>
            <div className="actions-row">
              <button
                type="submit"
                className="button primary"
                disabled={url.trim() === ''}
                aria-disabled={testing || undefined}
              >
                {testing ? t('wizard.testing') : t('wizard.test')}
              </button>
            </div>
            <div aria-live="polite">
              {couch && (
                <div className="notice tone-ok" role="status">
                  <Icon name="check" size={20} />
                  <div>
                    <p className="notice-title">{t('wizard.connected')}</p>
                    <p>
                      {t('wizard.connected.detail', {
                        vendor: couch.vendor,
                        version: couch.serverVersion,
                        n: couch.databases.length,
                      })}
                    </p>
                    {trusted && <p className="fingerprint">{t('wizard.trust.active', { fingerprint: trusted })}</p>}
                  </div>
                </div>
              )}
            </div>
            {couchError && <ErrorNotice help={couchError} context={t('wizard.testFailed')} />}
            {offeredCertificate && (
              <div className="notice tone-warn" role="group" aria-labelledby="trust-title">
                <Icon name="lock" size={20} />
                <div>
                  <p className="notice-title" id="trust-title">
                    {t('wizard.trust.title')}
                  </p>
                  <p>{t('wizard.trust.text')}</p>
                  <p>
                    <code className="fingerprint">{offeredCertificate}</code>
                  </p>
                  <button
                    type="button"
                    className="button"
                    onClick={() => trustAndRetry(offeredCertificate)}
                    disabled={testing}
                  >
                    {t('wizard.trust.button')}
                  </button>
                </div>
              </div>
            )}
          </form>
          <aside className="card demo-card" aria-labelledby="demo-heading">
            <h2 id="demo-heading">{t('wizard.demo.title')}</h2>
            <p>{t('wizard.demo.text')}</p>
            <button
              type="button"
              className="button"
              onClick={() => !finishing && void useDemo()}
              aria-disabled={finishing || undefined}
            >
              {finishing ? t('wizard.demo.starting') : t('wizard.demo.button')}
            </button>
          </aside>
        </section>
      )}

      {step === 'databases' && couch && (
        <section>
          <p className="lead">{t('wizard.databases.intro')}</p>
          <fieldset className="card">
            <legend>{t('wizard.databases.legend')}</legend>
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">{t('wizard.databases.copy')}</th>
                  <th scope="col">{t('wizard.databases.name')}</th>
                  <th scope="col" className="num">
                    {t('wizard.databases.docs')}
                  </th>
                  <th scope="col" className="num">
                    {t('wizard.databases.size')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {couch.databases.map((d) => {
                  const id = `db-${d.name}`;
                  return (
                    <tr key={d.name}>
                      <td>
                        <input
                          id={id}
                          type="checkbox"
                          checked={selected.includes(d.name)}
                          onChange={(e) =>
                            setSelected(e.target.checked ? [...selected, d.name] : selected.filter((n) => n !== d.name))
                          }
                        />
                      </td>
                      <td>
                        <label htmlFor={id}>
                          <code>{d.name}</code>{' '}
                          {d.isUsual && <span className="tag">{t('wizard.databases.usual')}</span>}
                        </label>
                      </td>
                      <td className="num">{formatNumber(lang, d.docCount)}</td>
                      <td className="num">{d.sizeBytes > 0 ? formatBytes(lang, d.sizeBytes) : '—'}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </fieldset>
          <div className="card estimate" aria-live="polite">
            <h2>{t('wizard.estimate.title')}</h2>
            {selected.length === 0 && <p>{t('wizard.databases.none')}</p>}
            {estimate && (
              <dl className="stats">
                <div>
                  <dt>{t('wizard.estimate.docs')}</dt>
                  <dd>{formatNumber(lang, estimate.docs)}</dd>
                </div>
                <div>
                  <dt>{t('wizard.estimate.disk')}</dt>
                  <dd>{formatBytes(lang, estimate.diskBytes)}</dd>
                </div>
                <div>
                  <dt>{t('wizard.estimate.time')}</dt>
                  <dd>{formatDuration(lang, estimate.seconds)}</dd>
                </div>
              </dl>
            )}
            {estimate?.link && (
              <p className="hint" data-testid="estimate-link">
                {t('wizard.estimate.link', {
                  rate: formatBytes(lang, estimate.link.bytesPerSecond),
                  latency: formatNumber(lang, estimate.link.latencyMs),
                  perDoc: formatBytes(lang, estimate.link.bytesPerDoc),
                })}
              </p>
            )}
            {estimate && <p className="hint">{t('wizard.estimate.note')}</p>}
            {estimateError && <ErrorNotice help={estimateError} />}
          </div>
        </section>
      )}

      {step === 'scope' && (
        <section>
          <p className="lead">{t('wizard.scope.intro')}</p>
          <PlaceChooser target={creds()} databases={selected} value={scope} onChange={setScope} />
        </section>
      )}

      {step === 'postgres' && (
        <section>
          <p className="lead">{t('wizard.postgres.intro')}</p>
          <div className="card">
            <PostgresForm draft={pg} onDraft={setPg} onTested={setPgTested} isLegendHidden />
            {pg.kind === 'external' && !pgTested && <p className="hint">{t('wizard.postgres.testFirst')}</p>}
          </div>
        </section>
      )}

      {step === 'pipeline' && (
        <section>
          <p className="lead">{t('wizard.pipeline.intro')}</p>
          <div className="card">
            <PipelineForm draft={pipeline} onDraft={setPipeline} isLegendHidden />
          </div>
        </section>
      )}

      {step === 'schedule' && (
        <section>
          <p className="lead">{t('wizard.schedule.intro')}</p>
          <div className="card">
            <ScheduleForm draft={schedule} onDraft={setSchedule} />
          </div>
        </section>
      )}

      {step === 'review' && (
        <section>
          <p className="lead">{t('wizard.review.intro')}</p>
          <dl className="card review">
            <div>
              <dt>{t('wizard.review.instance')}</dt>
              <dd>
                {/* Credentials typed into the address are never shown back: the user is, the password is not. */}
                <code>{displayUrl(url).url}</code>{' '}
                {(username.trim() || displayUrl(url).user) &&
                  t('wizard.review.as', { user: username.trim() || displayUrl(url).user || '' })}
              </dd>
            </div>
            <div>
              <dt>{t('wizard.review.databases')}</dt>
              <dd>{copied.join(', ')}</dd>
            </div>
            <div>
              <dt>{t('wizard.review.scope')}</dt>
              <dd>{scope.length ? scope.join(', ') : t('wizard.review.scopeAll')}</dd>
            </div>
            {estimate && (
              <div>
                <dt>{t('wizard.review.estimate')}</dt>
                <dd>
                  {t('wizard.review.estimateValue', {
                    docs: formatNumber(lang, estimate.docs),
                    disk: formatBytes(lang, estimate.diskBytes),
                    time: formatDuration(lang, estimate.seconds),
                  })}
                </dd>
              </div>
            )}
            <div>
              <dt>{t('wizard.review.postgres')}</dt>
              <dd>
                {pg.kind === 'embedded' ? t('pg.embedded') : `${pg.username}@${pg.host}:${pg.port}/${pg.database}`}
              </dd>
            </div>
            <div>
              <dt>{t('wizard.review.pipeline')}</dt>
              <dd>
                {pipeline.kind === 'bundled'
                  ? t('pipeline.bundled')
                  : pipeline.kind === 'folder'
                    ? pipeline.path
                    : pipeline.url}
              </dd>
            </div>
            <div>
              <dt>{t('wizard.review.schedule')}</dt>
              <dd>
                {schedule.kind === 'manual'
                  ? t('schedule.manual')
                  : t('schedule.everyN', {
                      n: scheduleInput(schedule).kind === 'interval' ? Number(schedule.minutes) : 0,
                    })}
              </dd>
            </div>
          </dl>
          {finishError && <ErrorNotice help={finishError} context={t('wizard.finishFailed')} />}
        </section>
      )}

      <div className="wizard-nav">
        {prevStep ? (
          <button type="button" className="button" onClick={() => goTo(prevStep)}>
            {t('action.back')}
          </button>
        ) : (
          <span />
        )}
        {nextStep ? (
          <button type="button" className="button primary" onClick={() => goTo(nextStep)} disabled={!canNext}>
            {t('action.next')}
          </button>
        ) : (
          <button
            type="button"
            className="button primary"
            onClick={() => !finishing && void finish()}
            aria-disabled={finishing || undefined}
          >
            {finishing ? t('wizard.finishing') : t('wizard.finish')}
          </button>
        )}
      </div>
      {step === 'connect' && !couch && <p className="hint right">{t('wizard.connect.nextHint')}</p>}
    </WizardFrame>
  );
}

function WizardFrame({
  title,
  children,
  headingRef,
  aside,
}: {
  title: string;
  children: ReactNode;
  headingRef: React.RefObject<HTMLHeadingElement | null>;
  aside?: ReactNode;
}) {
  const { t } = useT();
  useEffect(() => {
    document.title = `${title} · ${t('app.name')}`;
  }, [title, t]);
  return (
    <>
      <a className="skip-link" href="#main">
        {t('app.skipToContent')}
      </a>
      <header className="topbar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" />
          <span>{t('app.name')}</span>
          <span className="muted">— {t('wizard.title')}</span>
        </div>
        {aside}
      </header>
      <main id="main" tabIndex={-1} className="page wizard">
        <h1 id="wizard-heading" ref={headingRef} tabIndex={-1}>
          {title}
        </h1>
        {children}
      </main>
    </>
  );
}
