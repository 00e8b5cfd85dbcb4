import type { ReactNode } from 'react';
import type { Tone } from '../describe-state';
import { Icon, type IconName } from './icon';

/** A state shown with an icon, a word and a colour — never colour alone. */
export function Badge({
  tone,
  icon,
  children,
  title,
}: {
  tone: Tone;
  icon: IconName;
  children: ReactNode;
  title?: string;
}) {
  return (
    <span className={`badge tone-${tone}`} title={title}>
      <Icon name={icon} size={14} />
      <span>{children}</span>
    </span>
  );
}
