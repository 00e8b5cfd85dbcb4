import type { ScheduleSetting } from '../../app/contract/dto';
import { SETTING_BOUNDS } from '../../app/contract/settings';
import { useT } from '../i18n/use-t';
import { RadioGroup } from './radio-group';
import { TextField } from './text-field';

export interface ScheduleDraft {
  kind: ScheduleSetting['kind'];
  minutes: string;
}

export function scheduleDraftFrom(s: ScheduleSetting): ScheduleDraft {
  return { kind: s.kind, minutes: s.kind === 'interval' ? String(s.minutes) : '60' };
}

export function scheduleInput(d: ScheduleDraft): ScheduleSetting {
  return d.kind === 'interval'
    ? { kind: 'interval', minutes: Math.min(1440, Math.max(1, Math.round(Number(d.minutes) || 60))) }
    : { kind: 'manual' };
}

export function isScheduleDraftComplete(d: ScheduleDraft): boolean {
  const n = Number(d.minutes);
  const { min, max } = SETTING_BOUNDS.scheduleMinutes;
  return d.kind === 'manual' || (Number.isInteger(n) && n >= min && n <= max);
}

/** Manual, or every N minutes while the computer is online. */
export function ScheduleForm({ draft, onDraft }: { draft: ScheduleDraft; onDraft: (d: ScheduleDraft) => void }) {
  const { t } = useT();
  return (
    <RadioGroup
      legend={t('schedule.legend')}
      value={draft.kind}
      onValue={(kind) => onDraft({ ...draft, kind })}
      options={[
        { value: 'manual', label: t('schedule.manual'), description: t('schedule.manual.hint') },
        {
          value: 'interval',
          label: t('schedule.interval'),
          description: t('schedule.interval.hint'),
          children: (
            <TextField
              label={t('schedule.minutes')}
              value={draft.minutes}
              onValue={(minutes) => onDraft({ ...draft, minutes })}
              type="number"
              min={SETTING_BOUNDS.scheduleMinutes.min}
              max={SETTING_BOUNDS.scheduleMinutes.max}
              className="narrow-field"
              hint={isScheduleDraftComplete(draft) ? undefined : t('schedule.minutes.invalid')}
            />
          ),
        },
      ]}
    />
  );
}
