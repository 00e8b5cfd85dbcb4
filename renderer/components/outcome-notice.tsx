import type { OutcomeView } from '../describe-outcome';
import { useT } from '../i18n/use-t';
import { Icon } from './icon';

/** The outcome of a manual run, with what to do next and a link to its details. */
export function OutcomeNotice({
  view,
  onDismiss,
  hasLink = true,
}: {
  view: OutcomeView;
  onDismiss?: () => void;
  hasLink?: boolean;
}) {
  const { t } = useT();
  return (
    <div className={`notice tone-${view.tone}`} data-testid="outcome">
      <Icon name={view.icon} size={20} />
      <div>
        <p className="notice-title">{view.title}</p>
        {view.lines.map((line, i) => (
          <p key={i}>{line}</p>
        ))}
        {view.next && (
          <p>
            <strong>{t('next.label')}</strong> {view.next}
          </p>
        )}
        {hasLink && (
          <p>
            <a href={`#/history/${view.runId}`}>{t('outcome.seeDetails')}</a>
          </p>
        )}
      </div>
      {onDismiss && (
        <button type="button" className="link-button notice-close" onClick={onDismiss} aria-label={t('action.dismiss')}>
          <Icon name="cross" size={16} />
        </button>
      )}
    </div>
  );
}
