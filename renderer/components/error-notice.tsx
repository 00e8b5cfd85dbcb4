import type { ErrorHelp } from '../error-help';
import { useT } from '../i18n/use-t';
import { Icon } from './icon';

/**
 * An error as a data manager can act on it (the rule is error-help.ts): the headline, the fix,
 * the next step on this screen; the engine's own words and the code folded away below.
 * `context` says what was being attempted ("Could not connect to PostgreSQL") above the headline.
 */
export function ErrorNotice({ help, context }: { help: ErrorHelp; context?: string }) {
  const { t, lang } = useT();
  return (
    <div className="notice tone-bad" role="alert" data-testid="error-notice">
      <Icon name="alert" size={20} />
      <div>
        {context && <p className="muted small">{context}</p>}
        <p className="notice-title">{help.headline}</p>
        {help.fixes.length === 1 && <p>{help.fixes[0]}</p>}
        {help.fixes.length > 1 && (
          <ul>
            {help.fixes.map((fix) => (
              <li key={fix}>{fix}</li>
            ))}
          </ul>
        )}
        {help.next && (
          <p>
            <strong>{t('next.label')}</strong> {help.next}
          </p>
        )}
        <details className="technical">
          <summary>{lang === 'en' ? t('error.details') : t('error.detailsLanguage')}</summary>
          <p className="small">{help.detail}</p>
        </details>
        <p className="muted small">
          {t('error.code')}: <code>{help.code}</code>
        </p>
      </div>
    </div>
  );
}
