import { useState } from 'react';
import type { MethodArgs } from '../../app/contract/methods';
import type { PostgresTestResult, SettingsView } from '../../app/contract/dto';
import { useClient } from '../client-context';
import { explainError, type ErrorHelp, type Place } from '../error-help';
import { useT } from '../i18n/use-t';
import { ErrorNotice } from './error-notice';
import { Icon } from './icon';
import { RadioGroup } from './radio-group';
import { TextField } from './text-field';

export interface PostgresDraft {
  kind: 'embedded' | 'external';
  host: string;
  port: string;
  database: string;
  username: string;
  password: string;
  ssl: boolean;
}

export type PostgresInput = MethodArgs<'setup.testPostgres'>['postgres'];

export function postgresDraftFrom(view: SettingsView['postgres'] | null): PostgresDraft {
  if (view?.kind === 'external') {
    return {
      kind: 'external',
      host: view.host,
      port: String(view.port),
      database: view.database,
      username: view.username,
      password: '',
      ssl: view.ssl,
    };
  }
  return { kind: 'embedded', host: '', port: '5432', database: '', username: '', password: '', ssl: false };
}

/** The contract value for a draft; the password is left out when blank so a stored one is kept. */
export function postgresInput(d: PostgresDraft): PostgresInput {
  if (d.kind === 'embedded') return { kind: 'embedded' };
  return {
    kind: 'external',
    host: d.host.trim(),
    // Not a number stays not a number: the contract's schema refuses it, nothing is silently replaced.
    port: d.port.trim() === '' ? 5432 : Number(d.port.trim()),
    database: d.database.trim(),
    username: d.username.trim(),
    ...(d.password ? { password: d.password } : {}),
    ssl: d.ssl,
  };
}

/** The port as the contract's schema sees it: a whole number from 1 to 65535 (blank is the default 5432). */
export function isPortValid(port: string): boolean {
  const trimmed = port.trim();
  return trimmed === '' || (/^\d+$/.test(trimmed) && Number(trimmed) >= 1 && Number(trimmed) <= 65535);
}

export function isPostgresDraftComplete(d: PostgresDraft): boolean {
  return (
    d.kind === 'embedded' ||
    (d.host.trim() !== '' && d.database.trim() !== '' && d.username.trim() !== '' && isPortValid(d.port))
  );
}

/** Embedded (default) or an existing PostgreSQL, with a live "Test" for the latter. */
export function PostgresForm({
  draft,
  onDraft,
  onTested,
  hasStoredPassword = false,
  isLegendHidden = false,
  place = 'wizard-postgres',
}: {
  isLegendHidden?: boolean;
  /** Where the form is shown: the next step of an error names that screen's buttons. */
  place?: Place;
  draft: PostgresDraft;
  onDraft: (d: PostgresDraft) => void;
  onTested?: (ok: boolean) => void;
  hasStoredPassword?: boolean;
}) {
  const client = useClient();
  const { t } = useT();
  const [testing, setTesting] = useState(false);
  const [result, setResult] = useState<PostgresTestResult | null>(null);
  const [error, setError] = useState<ErrorHelp | null>(null);

  const update = (patch: Partial<PostgresDraft>) => {
    setResult(null);
    setError(null);
    onTested?.(false);
    onDraft({ ...draft, ...patch });
  };

  const test = async () => {
    setTesting(true);
    setResult(null);
    setError(null);
    try {
      const r = await client.invoke('setup.testPostgres', { postgres: postgresInput(draft) });
      setResult(r);
      onTested?.(true);
    } catch (e) {
      setError(explainError(e, t, { place }));
      onTested?.(false);
    } finally {
      setTesting(false);
    }
  };

  return (
    <div>
      <RadioGroup
        legend={t('pg.legend')}
        isLegendHidden={isLegendHidden}
        value={draft.kind}
        onValue={(kind) => update({ kind })}
        options={[
          { value: 'embedded', label: t('pg.embedded'), description: t('pg.embedded.hint') },
          {
            value: 'external',
            label: t('pg.external'),
            description: t('pg.external.hint'),
            children: (
              <div className="form-grid">
                <TextField
                  label={t('pg.host')}
                  value={draft.host}
                  onValue={(host) => update({ host })}
                  autoComplete="off"
                  spellCheck={false}
                  required
                />
                <TextField
                  label={t('pg.port')}
                  value={draft.port}
                  onValue={(port) => update({ port })}
                  inputMode="numeric"
                  className="narrow-field"
                  required
                  error={isPortValid(draft.port) ? null : t('settings.problem.port')}
                />
                <TextField
                  label={t('pg.database')}
                  value={draft.database}
                  onValue={(database) => update({ database })}
                  autoComplete="off"
                  spellCheck={false}
                  required
                />
                <TextField
                  label={t('pg.username')}
                  value={draft.username}
                  onValue={(username) => update({ username })}
                  autoComplete="off"
                  spellCheck={false}
                  required
                />
                <TextField
                  label={t('pg.password')}
                  type="password"
                  value={draft.password}
                  onValue={(password) => update({ password })}
                  autoComplete="new-password"
                  hint={hasStoredPassword ? t('field.passwordKeep') : undefined}
                />
                <div className="field checkbox-field">
                  <label>
                    <input type="checkbox" checked={draft.ssl} onChange={(e) => update({ ssl: e.target.checked })} />{' '}
                    {t('pg.ssl')}
                  </label>
                </div>
              </div>
            ),
          },
        ]}
      />
      {draft.kind === 'external' && (
        <div className="actions-row">
          {!isPostgresDraftComplete(draft) && <p className="hint">{t('pg.testNeeds')}</p>}
          {/* Busy is aria-disabled, not disabled: a disabled button drops the keyboard focus to <body>. */}
          <button
            type="button"
            className="button"
            onClick={() => !testing && void test()}
            disabled={!isPostgresDraftComplete(draft)}
            aria-disabled={testing || undefined}
          >
            {testing ? t('pg.testing') : t('pg.test')}
          </button>
        </div>
      )}
      <div aria-live="polite">
        {result && (
          <div className="notice tone-ok" role="status">
            <Icon name="check" size={20} />
            <div>
              <p className="notice-title">{t('pg.ok', { version: result.serverVersion })}</p>
              {!result.canCreateSchema && <p>{t('pg.noCreateSchema')}</p>}
            </div>
          </div>
        )}
      </div>
      {error && <ErrorNotice help={error} context={t('pg.failed')} />}
    </div>
  );
}
