import type { DatabaseStatus, RunDetail, RunSummary, SettingsView, WireError } from '../contract';
import { redact, safeUrl } from '../core/redact';

export interface DiagnosticsInput {
  app: { version: string; host: string; platform: string; arch: string; node: string; electron: string | null };
  settings: SettingsView;
  postgres: { kind: string; serverVersion: string | null };
  status: DatabaseStatus[];
  recent: RunSummary[];
  detail: RunDetail | null;
}

/**
 * A report a data manager can paste into a support ticket: versions, settings,
 * recent runs and errors. It carries no secret (every line passes through redact,
 * the settings are the secret-free view) and no patient data: no document
 * bodies, no names; quoted values inside database error messages are elided;
 * ids of skipped documents are kept (they identify, they do not describe).
 */
export function diagnosticsReport(input: DiagnosticsInput): string {
  const lines: string[] = [];
  const add = (text = ''): void => {
    lines.push(text);
  };
  add('CHT Sync Desktop — diagnostics');
  add(`generated: ${new Date().toISOString()}`);
  add(
    `version: ${input.app.version} (${input.app.host}); node ${input.app.node}${input.app.electron ? `; electron ${input.app.electron}` : ''}; ${input.app.platform}/${input.app.arch}`,
  );
  add();
  add('## Settings');
  const s = input.settings;
  add(`setup complete: ${s.isSetupComplete}; demo: ${s.isDemo}; language: ${s.language}`);
  add(
    `couch: ${s.couch.url ? safeUrl(s.couch.url) : '(not set)'}; user set: ${s.couch.username ? 'yes' : 'no'}; password stored: ${s.couch.hasPassword ? 'yes' : 'no'}`,
  );
  add(`databases: ${s.couch.databases.join(', ') || '(none)'}`);
  if (s.postgres.kind === 'embedded')
    add(
      `postgres: embedded (port ${s.postgres.port ?? 'not started'}); server ${input.postgres.serverVersion ?? 'unknown'}`,
    );
  else
    add(
      `postgres: external ${s.postgres.host}:${s.postgres.port}/${s.postgres.database} ssl=${s.postgres.ssl}; server ${input.postgres.serverVersion ?? 'unknown'}`,
    );
  add(
    `schema.table: ${s.schema}.${s.table}; pipeline: ${s.pipeline.kind === 'bundled' ? 'bundled' : s.pipeline.kind === 'git' ? `git ${safeUrl(s.pipeline.url)}` : `folder`}`,
  );
  add(
    `schedule: ${s.schedule.kind === 'manual' ? 'manual' : `every ${s.schedule.minutes} min`}; batch ${s.advanced.batchSize}; threads ${s.advanced.threads}; transform batch ${s.advanced.transformBatchSize ?? 'none'}`,
  );
  add();
  add('## Sync status');
  for (const d of input.status) {
    add(
      `${d.database}: ${d.state.kind}${d.state.error ? ` (${errorLine(d.state.error)})` : ''}; seq ${d.seqShort ?? '-'}; pending ${d.pending ?? '?'}; last success ${d.lastSuccessAt ?? 'never'}`,
    );
  }
  if (input.status.length === 0) add('(no databases configured)');
  add();
  add('## Recent runs');
  for (const r of input.recent) {
    add(
      `#${r.id} ${r.kind} ${r.trigger} ${r.outcome} ${r.startedAt} → ${r.finishedAt ?? '…'}: ${scrub(r.summary)}${r.errorCount ? ` [${r.errorCount} errors]` : ''}`,
    );
  }
  if (input.recent.length === 0) add('(none)');
  if (input.detail) {
    const d = input.detail;
    add();
    add(`## Run #${d.id} (${d.kind}, ${d.outcome})`);
    if (d.error) add(`error: ${errorLine(d.error)}`);
    for (const db of d.databases ?? []) {
      add(
        `- ${db.database}: ${db.outcome}; docs ${db.docs}; deletes ${db.deletes}; bytes ${db.bytes}; ${db.seconds.toFixed(1)} s; reached end ${db.reachedEnd}`,
      );
      if (db.error) add(`  error: ${errorLine(db.error)}`);
      for (const skipped of db.skipped.slice(0, 50)) add(`  skipped ${skipped.id}: ${scrub(skipped.reason)}`);
      if (db.skipped.length > 50) add(`  … and ${db.skipped.length - 50} more skipped`);
    }
    for (const m of d.models ?? []) {
      if (m.status === 'success') continue;
      const where = m.error?.details
        ? [m.error.details.file, m.error.details.line].filter((x) => x !== undefined).join(':')
        : '';
      add(
        `- model ${m.uniqueId}: ${m.status}${m.skippedBecause ? ` because of ${m.skippedBecause}` : ''}${m.error ? ` — ${errorLine(m.error)}` : ''}${where ? ` (${where})` : ''}`,
      );
    }
    for (const w of d.warnings ?? []) add(`warning: ${scrub(w)}`);
  }
  return redact(lines.join('\n')) + '\n';
}

function errorLine(error: WireError): string {
  return `${error.code}: ${scrub(error.message)}`;
}

/**
 * Database messages quote the offending value ("invalid input syntax for type
 * date: "12/31/1990"", "Key (name)=(Joyce) already exists"): keep the message,
 * drop the values.
 */
export function scrub(text: string): string {
  return redact(text)
    .replace(/=\([^)]*\)/g, '=(…)')
    .replace(/"[^"\n]{0,200}"/g, '"…"')
    .replace(/'[^'\n]{0,200}'/g, "'…'")
    .slice(0, 500);
}
