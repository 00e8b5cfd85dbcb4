import type { RunOutcome } from '../../app/contract/dto';
import type { Tone } from '../describe-state';
import { useT } from '../i18n/use-t';
import { Badge } from './badge';
import type { IconName } from './icon';

const LOOK: Record<RunOutcome, { tone: Tone; icon: IconName }> = {
  running: { tone: 'busy', icon: 'sync' },
  done: { tone: 'ok', icon: 'check' },
  partial: { tone: 'warn', icon: 'alert' },
  offline: { tone: 'bad', icon: 'offline' },
  timeout: { tone: 'warn', icon: 'clock' },
  refused: { tone: 'bad', icon: 'lock' },
  failed: { tone: 'bad', icon: 'cross' },
  cancelled: { tone: 'neutral', icon: 'pause' },
};

export function OutcomeBadge({ outcome }: { outcome: RunOutcome }) {
  const { t } = useT();
  const look = LOOK[outcome];
  return (
    <Badge tone={look.tone} icon={look.icon}>
      {t(`outcome.${outcome}`)}
    </Badge>
  );
}

export const OUTCOME_LOOK = LOOK;
