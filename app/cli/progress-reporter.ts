import cliProgress from 'cli-progress';
import { cleanText } from '../core/clean-text';
import type { SyncProgress, SyncState } from '../contract/dto';
import { count } from './output';

/**
 * Shows sync progress from the engine's events: one bar per database on a
 * terminal, plain lines (at most one per database every few seconds) otherwise.
 */
export interface ProgressReporter {
  state(database: string, state: SyncState): void;
  progress(p: SyncProgress): void;
  /** Prints a line without breaking the bars. */
  log(line: string): void;
  stop(): void;
}

export function createProgressReporter(o: {
  isTty: boolean;
  write: (line: string) => void;
  databases: string[];
  plainIntervalMs?: number;
}): ProgressReporter {
  return o.isTty ? ttyReporter(o.databases) : plainReporter(o.write, o.plainIntervalMs ?? 5000);
}

function describe(p: SyncProgress | undefined): { docs: string; pending: string; rate: string; eta: string } {
  if (!p) return { docs: '0', pending: '', rate: '', eta: '' };
  return {
    docs: count(p.docs),
    pending: p.pending !== null ? `${count(p.pending)} pending` : '',
    rate: p.docsPerSecond > 0 ? `${count(Math.round(p.docsPerSecond))} docs/s` : '',
    eta: p.etaSeconds !== null && p.etaSeconds > 0 ? `ETA ${formatEta(p.etaSeconds)}` : '',
  };
}

function formatEta(s: number): string {
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, '0')}m`;
}

function ttyReporter(databases: string[]): ProgressReporter {
  const width = Math.max(8, ...databases.map((d) => d.length));
  const multi = new cliProgress.MultiBar(
    {
      clearOnComplete: false,
      hideCursor: true,
      autopadding: true,
      barsize: 20,
      stream: process.stderr,
      format: (options, params, payload: { database: string; text: string; state: string; hasTotal: boolean }) => {
        const size = options.barsize ?? 24;
        const done = payload.hasTotal ? Math.round(params.progress * size) : 0;
        const bar = payload.hasTotal ? `${'█'.repeat(done)}${'░'.repeat(size - done)}` : ' '.repeat(size);
        return `${cleanText(payload.database, { multiline: false }).padEnd(width)} ${bar} ${payload.state.padEnd(11)} ${payload.text}`;
      },
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, cliProgress.SingleBar>();
  const states = new Map<string, string>();
  const last = new Map<string, SyncProgress>();
  const bar = (database: string): cliProgress.SingleBar => {
    let b = bars.get(database);
    if (!b) {
      b = multi.create(1, 0, { database, text: '', state: states.get(database) ?? 'waiting', hasTotal: false });
      bars.set(database, b);
    }
    return b;
  };
  for (const d of databases) bar(d);
  const render = (database: string) => {
    const p = last.get(database);
    const d = describe(p);
    const total = p && p.pending !== null ? p.docs + p.pending : 0;
    const b = bar(database);
    if (total > 0) b.setTotal(total);
    b.update(total > 0 && p ? p.docs : 0, {
      database,
      state: states.get(database) ?? '',
      hasTotal: total > 0,
      text: [`${d.docs} docs`, d.pending, d.rate, d.eta].filter(Boolean).join(', '),
    });
  };
  return {
    state(database, state) {
      states.set(database, state.kind);
      render(database);
    },
    progress(p) {
      last.set(p.database, p);
      render(p.database);
    },
    log(line) {
      // cli-progress writes to the terminal itself: the same sanitiser as every other line.
      multi.log(`${cleanText(line)}\n`);
    },
    stop() {
      multi.stop();
    },
  };
}

function plainReporter(write: (line: string) => void, intervalMs: number): ProgressReporter {
  const printedAt = new Map<string, number>();
  const states = new Map<string, string>();
  return {
    state(database, state) {
      if (states.get(database) === state.kind) return;
      states.set(database, state.kind);
      const why = state.error ? `: ${state.error.message}` : state.retryAt ? ` (next try ${state.retryAt})` : '';
      write(`${database}: ${state.kind}${why}`);
    },
    progress(p) {
      const now = Date.now();
      if (now - (printedAt.get(p.database) ?? 0) < intervalMs) return;
      printedAt.set(p.database, now);
      const d = describe(p);
      write(`${p.database}: ${[`${d.docs} docs`, d.pending, d.rate, d.eta].filter(Boolean).join(', ')}`);
    },
    log: write,
    stop: () => undefined,
  };
}
