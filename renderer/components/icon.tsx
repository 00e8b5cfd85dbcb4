/** A few stroke icons drawn inline (no icon font, no network). Always paired with words. */
export type IconName =
  'check' | 'sync' | 'pause' | 'alert' | 'cross' | 'idle' | 'clock' | 'offline' | 'lock' | 'play' | 'copy' | 'download';

const PATHS: Record<IconName, string> = {
  check: 'M4 12.5l5 5L20 6.5',
  sync: 'M20 11a8 8 0 0 0-14.3-4.9M4 4v4h4M4 13a8 8 0 0 0 14.3 4.9M20 20v-4h-4',
  pause: 'M8 5v14M16 5v14',
  alert: 'M12 3l10 18H2L12 3zM12 10v5M12 18v.5',
  cross: 'M6 6l12 12M18 6L6 18',
  idle: 'M12 4a8 8 0 1 0 0 16a8 8 0 1 0 0-16',
  clock: 'M12 4a8 8 0 1 0 0 16a8 8 0 1 0 0-16M12 8v4l3 2',
  offline:
    'M3 3l18 18M8.5 16.5a5 5 0 0 1 7 0M5 13a10 10 0 0 1 5-2.7M14 10.3A10 10 0 0 1 19 13M2 9a15 15 0 0 1 4.5-2.8M11 5.1A15 15 0 0 1 22 9M12 20h.01',
  lock: 'M6 11h12v9H6zM8.5 11V8a3.5 3.5 0 0 1 7 0v3',
  play: 'M7 5l12 7-12 7z',
  copy: 'M9 9h11v11H9zM5 15H4V4h11v1',
  download: 'M12 4v11M7 10l5 5 5-5M5 20h14',
};

export function Icon({ name, size = 16 }: { name: IconName; size?: number }) {
  return (
    <svg
      className="icon"
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth={2}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      <path d={PATHS[name]} />
    </svg>
  );
}
