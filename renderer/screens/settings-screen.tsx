import { useState, type FormEvent } from 'react';
import { methodSchemas, type MethodArgs } from '../../app/contract/methods';
import type { CouchTestResult, SettingsView } from '../../app/contract/dto';
import type { WireError } from '../../app/contract/errors';
import { SETTING_BOUNDS } from '../../app/contract/settings';
import { useClient } from '../client-context';
import { ErrorNotice } from '../components/error-notice';
import { PlaceChooser } from '../components/place-chooser';
import { Icon } from '../components/icon';
import { isPipelineDraftComplete, PipelineForm, pipelineDraftFrom, pipelineInput } from '../components/pipeline-form';
import { isPostgresDraftComplete, PostgresForm, postgresDraftFrom, postgresInput } from '../components/postgres-form';
import { isScheduleDraftComplete, ScheduleForm, scheduleDraftFrom, scheduleInput } from '../components/schedule-form';
import { TextField } from '../components/text-field';
import { explainError, urlHints, type ErrorHelp } from '../error-help';
import type { Lang } from '../format';
import type { MessageKey } from '../i18n/catalogue';
import { useT } from '../i18n/use-t';

/** Which message a schema problem at this path gets (the contract's schema is the one definition of the bounds). */
const PROBLEM_FOR_PATH: [RegExp, MessageKey][] = [
  [/^couch\.url/, 'settings.problem.url'],
  [/^couch\.databases/, 'settings.problem.databases'],
  [/^postgres\.port/, 'settings.problem.port'],
  [/^postgres/, 'settings.problem.postgres'],
  [/^pipeline/, 'settings.problem.pipeline'],
  [/^schedule/, 'schedule.minutes.invalid'],
  [/^advanced\.batchSize/, 'settings.problem.batchSize'],
  [/^advanced\.threads/, 'settings.problem.threads'],
  [/^advanced\.transformBatchSize/, 'settings.problem.transformBatch'],
  [/^(schema|table)/, 'settings.problem.identifier'],
];

/** scheme://host:port of an address, or null: a saved password belongs to one origin. */
export function originOf(url: string): string | null {
  try {
    return new URL(url.trim()).origin;
  } catch {
    return null;
  }
}

/** The configured databases the server does not list, as the engine's own error would say it. */
function missingDatabase(result: CouchTestResult, wanted: string[]): WireError | null {
  const names = result.databases.map((d) => d.name);
  const missing = wanted.find((w) => !names.includes(w));
  if (missing === undefined) return null;
  const near = names.find((n) => n.replace(/[-_]/g, '') === missing.replace(/[-_]/g, ''));
  return {
    code: 'COUCH_DB_MISSING',
    message: `The database '${missing}' is not on the server (it lists ${names.length}).`,
    retryable: false,
    details: { database: missing, ...(near ? { suggestion: near } : {}) },
  };
}

/** Everything the wizard set, editable; secrets are write-only (blank keeps the stored one). */
export function SettingsScreen({ settings, onSaved }: { settings: SettingsView; onSaved: (s: SettingsView) => void }) {
  const client = useClient();
  const { t, lang, setLang } = useT();
  const [url, setUrl] = useState(settings.couch.url ?? '');
  const [username, setUsername] = useState(settings.couch.username ?? '');
  const [password, setPassword] = useState('');
  const [databases, setDatabases] = useState(settings.couch.databases.join(', '));
  const [scope, setScope] = useState<string[]>(settings.couch.scope);
  const [transformAfterSync, setTransformAfterSync] = useState(settings.advanced.transformAfterSync);
  const [pg, setPg] = useState(() => postgresDraftFrom(settings.postgres));
  const [pipeline, setPipeline] = useState(() => pipelineDraftFrom(settings.pipeline));
  const [schedule, setSchedule] = useState(() => scheduleDraftFrom(settings.schedule));
  const [batchSize, setBatchSize] = useState(String(settings.advanced.batchSize));
  const [threads, setThreads] = useState(String(settings.advanced.threads));
  const [transformBatch, setTransformBatch] = useState(
    settings.advanced.transformBatchSize === null ? '' : String(settings.advanced.transformBatchSize),
  );
  const [schema, setSchema] = useState(settings.schema);
  const [table, setTable] = useState(settings.table);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<ErrorHelp | null>(null);
  const [problems, setProblems] = useState<string[]>([]);
  const [couchTesting, setCouchTesting] = useState(false);
  const [couchResult, setCouchResult] = useState<CouchTestResult | null>(null);
  const [couchError, setCouchError] = useState<ErrorHelp | null>(null);
  /** The last save stopped because a check failed: the user may still save without it. */
  const [isUnverified, setIsUnverified] = useState(false);

  const isNewCouchOrigin = settings.couch.url !== null && originOf(url) !== originOf(settings.couch.url);
  const savedPg = settings.postgres.kind === 'external' ? settings.postgres : null;
  const isNewPgOrigin =
    pg.kind === 'external' && savedPg !== null && (pg.host.trim() !== savedPg.host || Number(pg.port) !== savedPg.port);

  const buildPatch = (): MethodArgs<'settings.update'> => ({
    // A district leaves out the databases whose documents carry no lineage (the chooser names them).
    couch: {
      url: url.trim(),
      username: username.trim(),
      ...(password ? { password } : {}),
      databases: scope.length ? dbList().filter((d) => !/-(sentinel|logs|audit|archive|vault)$/.test(d)) : dbList(),
      scope,
    },
    postgres: postgresInput(pg),
    pipeline: pipelineInput(pipeline),
    schedule: scheduleInput(schedule),
    schema,
    table,
    advanced: {
      batchSize: Number(batchSize),
      threads: Number(threads),
      transformBatchSize: transformBatch.trim() ? Number(transformBatch) : null,
      transformAfterSync,
    },
  });

  /** The form checked with the contract's own schema (the bounds the engine enforces), then what the schema cannot know. */
  const validate = (): string[] => {
    const out = new Set<string>();
    if (!url.trim()) out.add(t('settings.problem.url'));
    if (dbList().length === 0) out.add(t('settings.problem.databases'));
    if (!isPostgresDraftComplete(pg)) out.add(t('settings.problem.postgres'));
    if (!isPipelineDraftComplete(pipeline)) out.add(t('settings.problem.pipeline'));
    if (!isScheduleDraftComplete(schedule)) out.add(t('schedule.minutes.invalid'));
    if (transformBatch.trim() && !/^\d+$/.test(transformBatch.trim())) out.add(t('settings.problem.transformBatch'));
    const parsed = methodSchemas['settings.update'].safeParse(buildPatch());
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const where = issue.path.map(String).join('.');
        const key = PROBLEM_FOR_PATH.find(([re]) => re.test(where))?.[1];
        out.add(key ? t(key) : t('settings.problem.other', { field: where }));
      }
    }
    // A saved password belongs to the server it was saved for.
    if (isNewCouchOrigin && settings.couch.hasPassword && !password) out.add(t('settings.problem.couchPasswordAgain'));
    if (isNewPgOrigin && savedPg?.hasPassword && !pg.password) out.add(t('settings.problem.pgPasswordAgain'));
    return [...out];
  };
  const dbList = () =>
    databases
      .split(/[\s,]+/)
      .map((d) => d.trim())
      .filter(Boolean);

  const couchArgs = (): MethodArgs<'setup.testCouch'> => ({
    url: url.trim(),
    ...(username.trim() ? { username: username.trim() } : {}),
    // Blank: the engine uses the saved password, and only for the server it was saved for.
    ...(password ? { password } : {}),
    ...(settings.couch.trustedFingerprint256 && !isNewCouchOrigin
      ? { trustedFingerprint256: settings.couch.trustedFingerprint256 }
      : {}),
  });

  /** The CHT side as it would be saved: the server answers, the login works, every database exists. */
  const checkCouch = async (): Promise<CouchTestResult> => {
    const result = await client.invoke('setup.testCouch', couchArgs());
    const missing = missingDatabase(result, dbList());
    if (missing) throw missing;
    return result;
  };

  const testCouch = async () => {
    setCouchTesting(true);
    setCouchResult(null);
    setCouchError(null);
    try {
      setCouchResult(await checkCouch());
    } catch (err) {
      setCouchError(explainError(err, t, { place: 'settings', couchUrl: url }));
    } finally {
      setCouchTesting(false);
    }
  };

  const isCouchChanged = (): boolean =>
    url.trim() !== (settings.couch.url ?? '') ||
    username.trim() !== (settings.couch.username ?? '') ||
    password !== '' ||
    dbList().join(',') !== settings.couch.databases.join(',');
  const isPgChanged = (): boolean =>
    JSON.stringify(postgresInput(pg)) !== JSON.stringify(postgresInput(postgresDraftFrom(settings.postgres))) ||
    pg.password !== '';

  const save = async (e: FormEvent | null, verify = true) => {
    e?.preventDefault();
    if (saving) return;
    setSaved(false);
    setError(null);
    const found = validate();
    setProblems(found);
    if (found.length) return;
    setSaving(true);
    try {
      // Verify before saving: a wrong password, a misspelled database or a closed port is said now, not at the next sync.
      if (verify) {
        if (isCouchChanged()) await checkCouch();
        if (isPgChanged() && pg.kind === 'external')
          await client.invoke('setup.testPostgres', { postgres: postgresInput(pg) });
      }
    } catch (err) {
      setIsUnverified(true);
      setError(explainError(err, t, { place: 'settings', couchUrl: url }));
      setSaving(false);
      return;
    }
    try {
      const next = await client.invoke('settings.update', buildPatch());
      setPassword('');
      setSaved(true);
      setIsUnverified(false);
      onSaved(next);
    } catch (err) {
      setError(explainError(err, t, { place: 'settings', couchUrl: url }));
    } finally {
      setSaving(false);
    }
  };

  const forgetCertificate = async () => {
    setError(null);
    try {
      onSaved(await client.invoke('settings.update', { couch: { trustedFingerprint256: null } }));
    } catch (err) {
      setError(explainError(err, t, { place: 'settings' }));
    }
  };

  const changeLanguage = async (next: Lang) => {
    setLang(next);
    try {
      onSaved(await client.invoke('settings.update', { language: next }));
    } catch (err) {
      setError(explainError(err, t, { place: 'settings' }));
    }
  };

  const hints = url.trim() ? urlHints(url.trim(), t) : [];
  return (
    <>
      <div className="page-header">
        <h1>{t('settings.title')}</h1>
      </div>
      <section className="card" aria-labelledby="settings-lang">
        <h2 id="settings-lang">{t('settings.language')}</h2>
        <div className="field inline">
          <label htmlFor="settings-language">{t('settings.languageLabel')}</label>
          <select
            id="settings-language"
            value={lang}
            onChange={(e) => void changeLanguage(e.target.value === 'fr' ? 'fr' : 'en')}
          >
            <option value="en">English</option>
            <option value="fr">Français</option>
          </select>
        </div>
      </section>

      <form onSubmit={(e) => void save(e)} noValidate>
        <section className="card" aria-labelledby="settings-couch">
          <h2 id="settings-couch">{t('settings.instance')}</h2>
          {settings.isDemo && <p className="hint">{t('settings.demoNote')}</p>}
          <TextField
            label={t('wizard.url')}
            value={url}
            onValue={setUrl}
            type="url"
            spellCheck={false}
            autoComplete="url"
          />
          {settings.couch.trustedFingerprint256 && (
            <div className="trusted-certificate">
              <p className="hint fingerprint">
                {t('wizard.trust.active', { fingerprint: settings.couch.trustedFingerprint256 })}
              </p>
              <button type="button" className="button" onClick={() => void forgetCertificate()}>
                {t('settings.trust.forget')}
              </button>
            </div>
          )}
          {hints.length > 0 && (
            <ul className="inline-hints">
              {hints.map((h) => (
                <li key={h}>{h}</li>
              ))}
            </ul>
          )}
          <div className="form-grid">
            <TextField
              label={t('wizard.username')}
              value={username}
              onValue={setUsername}
              autoComplete="username"
              spellCheck={false}
            />
            <TextField
              label={t('wizard.password')}
              value={password}
              onValue={setPassword}
              type="password"
              autoComplete="new-password"
              hint={settings.couch.hasPassword ? t('field.passwordKeep') : undefined}
            />
          </div>
          <TextField
            label={t('settings.databases')}
            hint={t('settings.databases.hint')}
            value={databases}
            onValue={setDatabases}
            spellCheck={false}
          />
          <div className="actions-row">
            <button
              type="button"
              className="button"
              onClick={() => !couchTesting && void testCouch()}
              disabled={!url.trim()}
              aria-disabled={couchTesting || undefined}
            >
              {couchTesting ? t('wizard.testing') : t('wizard.test')}
            </button>
          </div>
          <div aria-live="polite">
            {couchResult && (
              <div className="notice tone-ok" role="status">
                <Icon name="check" size={20} />
                <div>
                  <p className="notice-title">{t('wizard.connected')}</p>
                  <p>{t('settings.couchOk', { version: couchResult.serverVersion, databases: dbList().join(', ') })}</p>
                </div>
              </div>
            )}
          </div>
          {couchError && <ErrorNotice help={couchError} context={t('wizard.testFailed')} />}
        </section>

        <section aria-labelledby="settings-scope">
          <h2 id="settings-scope" className="visually-hidden">
            {t('settings.scope')}
          </h2>
          <PlaceChooser target={{}} databases={dbList()} value={scope} onChange={setScope} idPrefix="settings-scope" />
        </section>

        <section className="card" aria-labelledby="settings-pg">
          <h2 id="settings-pg">{t('wizard.step.postgres')}</h2>
          <PostgresForm
            draft={pg}
            onDraft={setPg}
            isLegendHidden
            place="settings"
            hasStoredPassword={settings.postgres.kind === 'external' && settings.postgres.hasPassword}
          />
        </section>

        <section className="card" aria-labelledby="settings-pipeline">
          <h2 id="settings-pipeline">{t('wizard.step.pipeline')}</h2>
          <PipelineForm draft={pipeline} onDraft={setPipeline} isLegendHidden />
        </section>

        <section className="card" aria-labelledby="settings-schedule">
          <h2 id="settings-schedule">{t('wizard.step.schedule')}</h2>
          <ScheduleForm draft={schedule} onDraft={setSchedule} />
          <div className="field">
            <input
              type="checkbox"
              id="settings-transform-after-sync"
              checked={transformAfterSync}
              onChange={(e) => setTransformAfterSync(e.target.checked)}
            />{' '}
            <label htmlFor="settings-transform-after-sync">{t('settings.transformAfterSync')}</label>
            <p className="hint">{t('settings.transformAfterSync.hint')}</p>
          </div>
        </section>

        <details className="card advanced">
          <summary>{t('settings.advanced')}</summary>
          <p className="hint">{t('settings.advanced.hint')}</p>
          <div className="form-grid">
            <TextField
              label={t('settings.batchSize')}
              hint={t('settings.batchSize.hint')}
              value={batchSize}
              onValue={setBatchSize}
              type="number"
              min={SETTING_BOUNDS.batchSize.min}
              max={SETTING_BOUNDS.batchSize.max}
            />
            <TextField
              label={t('settings.threads')}
              hint={t('settings.threads.hint')}
              value={threads}
              onValue={setThreads}
              type="number"
              min={SETTING_BOUNDS.threads.min}
              max={SETTING_BOUNDS.threads.max}
            />
            <TextField
              label={t('settings.transformBatch')}
              hint={t('settings.transformBatch.hint')}
              value={transformBatch}
              onValue={setTransformBatch}
              type="number"
              min={SETTING_BOUNDS.transformBatchSize.min}
              max={SETTING_BOUNDS.transformBatchSize.max}
            />
            <TextField
              label={t('settings.schema')}
              hint={t('settings.schema.hint')}
              value={schema}
              onValue={setSchema}
              spellCheck={false}
            />
            <TextField label={t('settings.table')} value={table} onValue={setTable} spellCheck={false} />
          </div>
        </details>

        {problems.length > 0 && (
          <div className="notice tone-bad" role="alert">
            <Icon name="alert" size={20} />
            <div>
              <p className="notice-title">{t('settings.problems')}</p>
              <ul>
                {problems.map((p) => (
                  <li key={p}>{p}</li>
                ))}
              </ul>
            </div>
          </div>
        )}
        {error && (
          <ErrorNotice
            help={error}
            context={isUnverified ? t('settings.notSavedCheckFailed') : t('settings.saveFailed')}
          />
        )}
        <div className="sticky-actions">
          <span aria-live="polite" className="save-status">
            {saved && (
              <>
                <Icon name="check" /> {t('settings.saved')}
              </>
            )}
          </span>
          {isUnverified && (
            <button type="button" className="button" onClick={() => void save(null, false)} disabled={saving}>
              {t('settings.saveUnverified')}
            </button>
          )}
          <button type="submit" className="button primary" aria-disabled={saving || undefined}>
            {saving ? t('settings.saving') : t('settings.save')}
          </button>
        </div>
      </form>
    </>
  );
}
