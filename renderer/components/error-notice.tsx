import type { ErrorHelp } from '../error-help';
import { useT } from '../i18n/use-t';
import { Icon } from './icon';

/**
 * An error as a data manager can act on it: the plain-language fix first, then the
 * engine's own words (which name the setting or document at fault) and the code.
 */
export function ErrorNotice({ help, title }: { help: ErrorHelp; title?: string }) {
  const { t } = useT();
  const [first, ...more] = help.fixes;
  return (
    <div className="notice tone-bad" role="alert">
      <Icon name="alert" size={20} />
      <div>
        <p className="notice-title">{title ?? t('error.title')}</p>
        {first ? <p>{first}</p> : <p>{help.message}</p>}
        {more.length > 0 && (
          <ul>
            {more.map((fix) => (
              <li key={fix}>{fix}</li>
            ))}
          </ul>
        )}
        {first && (
          <p className="muted small">
            {t('error.details')} {help.message}
          </p>
        )}
        <p className="muted small">
          {t('error.code')}: <code>{help.code}</code>
        </p>
      </div>
    </div>
  );
}
