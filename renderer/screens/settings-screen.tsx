import { useState, type FormEvent } from 'react';
import type { MethodArgs } from '../../app/contract/methods';
import type { SettingsView } from '../../app/contract/dto';
import { useClient } from '../client-context';
import { ErrorNotice } from '../components/error-notice';
import { Icon } from '../components/icon';
import { isPipelineDraftComplete, PipelineForm, pipelineDraftFrom, pipelineInput } from '../components/pipeline-form';
import { isPostgresDraftComplete, PostgresForm, postgresDraftFrom, postgresInput } from '../components/postgres-form';
import { isScheduleDraftComplete, ScheduleForm, scheduleDraftFrom, scheduleInput } from '../components/schedule-form';
import { TextField } from '../components/text-field';
import { explainError, urlHints, type ErrorHelp } from '../error-help';
import type { Lang } from '../format';
import { useT } from '../i18n/use-t';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Everything the wizard set, editable; secrets are write-only (blank keeps the stored one). */
export function SettingsScreen({ settings, onSaved }: { settings: SettingsView; onSaved: (s: SettingsView) => void }) {
  const client = useClient();
  const { t, lang, setLang } = useT();
  const [url, setUrl] = useState(settings.couch.url ?? '');
  const [username, setUsername] = useState(settings.couch.username ?? '');
  const [password, setPassword] = useState('');
  const [databases, setDatabases] = useState(settings.couch.databases.join(', '));
  const [pg, setPg] = useState(() => postgresDraftFrom(settings.postgres));
  const [pipeline, setPipeline] = useState(() => pipelineDraftFrom(settings.pipeline));
  const [schedule, setSchedule] = useState(() => scheduleDraftFrom(settings.schedule));
  const [batchSize, setBatchSize] = useState(String(settings.advanced.batchSize));
  const [threads, setThreads] = useState(String(settings.advanced.threads));
  const [transformBatch, setTransformBatch] = useState(settings.advanced.transformBatchSize === null ? '' : String(settings.advanced.transformBatchSize));
  const [schema, setSchema] = useState(settings.schema);
  const [table, setTable] = useState(settings.table);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<ErrorHelp | null>(null);
  const [problems, setProblems] = useState<string[]>([]);

  const validate = (): string[] => {
    const out: string[] = [];
    if (!url.trim()) out.push(t('settings.problem.url'));
    if (dbList().length === 0) out.push(t('settings.problem.databases'));
    if (!isPostgresDraftComplete(pg)) out.push(t('settings.problem.postgres'));
    if (!isPipelineDraftComplete(pipeline)) out.push(t('settings.problem.pipeline'));
    if (!isScheduleDraftComplete(schedule)) out.push(t('schedule.minutes.invalid'));
    const bs = Number(batchSize);
    if (!Number.isInteger(bs) || bs < 1 || bs > 100_000) out.push(t('settings.problem.batchSize'));
    const th = Number(threads);
    if (!Number.isInteger(th) || th < 1 || th > 32) out.push(t('settings.problem.threads'));
    if (transformBatch.trim() && !(Number.isInteger(Number(transformBatch)) && Number(transformBatch) >= 1)) out.push(t('settings.problem.transformBatch'));
    if (!IDENTIFIER.test(schema) || !IDENTIFIER.test(table)) out.push(t('settings.problem.identifier'));
    return out;
  };
  const dbList = () => databases.split(/[\s,]+/).map((d) => d.trim()).filter(Boolean);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setSaved(false);
    setError(null);
    const found = validate();
    setProblems(found);
    if (found.length) return;
    setSaving(true);
    const patch: MethodArgs<'settings.update'> = {
      couch: { url: url.trim(), username: username.trim(), ...(password ? { password } : {}), databases: dbList() },
      postgres: postgresInput(pg),
      pipeline: pipelineInput(pipeline),
      schedule: scheduleInput(schedule),
      schema,
      table,
      advanced: { batchSize: Number(batchSize), threads: Number(threads), transformBatchSize: transformBatch.trim() ? Number(transformBatch) : null },
    };
    try {
      const next = await client.invoke('settings.update', patch);
      setPassword('');
      setSaved(true);
      onSaved(next);
    } catch (err) {
      setError(explainError(err, t, { couchUrl: url }));
    } finally {
      setSaving(false);
    }
  };

  const forgetCertificate = async () => {
    setError(null);
    try {
      onSaved(await client.invoke('settings.update', { couch: { trustedFingerprint256: null } }));
    } catch (err) {
      setError(explainError(err, t));
    }
  };

  const changeLanguage = async (next: Lang) => {
    setLang(next);
    try {
      onSaved(await client.invoke('settings.update', { language: next }));
    } catch (err) {
      setError(explainError(err, t));
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
          <select id="settings-language" value={lang} onChange={(e) => void changeLanguage(e.target.value === 'fr' ? 'fr' : 'en')}>
            <option value="en">English</option>
            <option value="fr">Français</option>
          </select>
        </div>
      </section>

      <form onSubmit={(e) => void save(e)} noValidate>
        <section className="card" aria-labelledby="settings-couch">
          <h2 id="settings-couch">{t('settings.instance')}</h2>
          {settings.isDemo && <p className="hint">{t('settings.demoNote')}</p>}
          <TextField label={t('wizard.url')} value={url} onValue={setUrl} type="url" spellCheck={false} autoComplete="url" />
          {settings.couch.trustedFingerprint256 && (
            <div className="trusted-certificate">
              <p className="hint fingerprint">{t('wizard.trust.active', { fingerprint: settings.couch.trustedFingerprint256 })}</p>
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
            <TextField label={t('wizard.username')} value={username} onValue={setUsername} autoComplete="username" spellCheck={false} />
            <TextField
              label={t('wizard.password')}
              value={password}
              onValue={setPassword}
              type="password"
              autoComplete="new-password"
              hint={settings.couch.hasPassword ? t('field.passwordKeep') : undefined}
            />
          </div>
          <TextField label={t('settings.databases')} hint={t('settings.databases.hint')} value={databases} onValue={setDatabases} spellCheck={false} />
        </section>

        <section className="card" aria-labelledby="settings-pg">
          <h2 id="settings-pg">{t('wizard.step.postgres')}</h2>
          <PostgresForm draft={pg} onDraft={setPg} isLegendHidden hasStoredPassword={settings.postgres.kind === 'external' && settings.postgres.hasPassword} />
        </section>

        <section className="card" aria-labelledby="settings-pipeline">
          <h2 id="settings-pipeline">{t('wizard.step.pipeline')}</h2>
          <PipelineForm draft={pipeline} onDraft={setPipeline} isLegendHidden />
        </section>

        <section className="card" aria-labelledby="settings-schedule">
          <h2 id="settings-schedule">{t('wizard.step.schedule')}</h2>
          <ScheduleForm draft={schedule} onDraft={setSchedule} />
        </section>

        <details className="card advanced">
          <summary>{t('settings.advanced')}</summary>
          <p className="hint">{t('settings.advanced.hint')}</p>
          <div className="form-grid">
            <TextField label={t('settings.batchSize')} hint={t('settings.batchSize.hint')} value={batchSize} onValue={setBatchSize} type="number" min={1} max={100000} />
            <TextField label={t('settings.threads')} hint={t('settings.threads.hint')} value={threads} onValue={setThreads} type="number" min={1} max={32} />
            <TextField label={t('settings.transformBatch')} hint={t('settings.transformBatch.hint')} value={transformBatch} onValue={setTransformBatch} type="number" min={1} />
            <TextField label={t('settings.schema')} hint={t('settings.schema.hint')} value={schema} onValue={setSchema} spellCheck={false} />
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
        {error && <ErrorNotice help={error} title={t('settings.saveFailed')} />}
        <div className="sticky-actions">
          <span aria-live="polite" className="save-status">
            {saved && (
              <>
                <Icon name="check" /> {t('settings.saved')}
              </>
            )}
          </span>
          <button type="submit" className="button primary" disabled={saving}>
            {saving ? t('settings.saving') : t('settings.save')}
          </button>
        </div>
      </form>
    </>
  );
}
