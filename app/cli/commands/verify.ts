import type { VerifyRunResult } from '../../contract';
import { onStopSignal, openEngine, preflightCouch, preflightPostgres } from '../common';
import type { CliContext } from '../context';
import { EXIT } from '../exit-codes';

export interface VerifyCommandOptions {
  fix?: boolean;
}

/**
 * `cht-sync verify [--fix]`: the raw table against the server's ids and revisions (no document
 * bodies travel); `--fix` re-fetches what is missing or out of date and marks rows gone from the
 * server (purged, archived) or from the scope deleted. Exit 0 when nothing is left to fix.
 */
export async function verifyCommand(ctx: CliContext, opts: VerifyCommandOptions): Promise<number> {
  const engine = await openEngine(ctx, 'in-process');
  try {
    const couch = await preflightCouch(engine);
    await preflightPostgres(engine);
    ctx.say(
      `Checking ${couch.databases.join(', ')} at ${couch.url} against ${engine.config().schema}.${engine.config().table}${couch.scope?.length ? ` (scope: ${couch.scope.join(', ')})` : ''}${opts.fix ? ', fixing what is found' : ''}…`,
    );
    const disposeSignals = onStopSignal(ctx, () => void engine.close());
    let result: VerifyRunResult;
    try {
      result = await engine.handlers['sync.verify']({ fix: opts.fix === true, trigger: 'cli' });
    } finally {
      disposeSignals();
    }
    if (ctx.isJson) ctx.io.stdout(JSON.stringify(result, null, 2));
    else ctx.say(verifyTable(result));
    if (result.outcome === 'cancelled') return EXIT.interrupted;
    if (result.outcome !== 'done') return result.outcome === 'refused' ? EXIT.userError : EXIT.incomplete;
    const found = result.databases.reduce((n, d) => n + d.missing + d.stale + d.purged + d.outOfScope, 0);
    return found === 0 || opts.fix ? EXIT.ok : EXIT.incomplete;
  } finally {
    await engine.close();
  }
}

function verifyTable(r: VerifyRunResult): string {
  const header = [
    'DATABASE',
    'SERVER',
    'POSTGRES',
    'MISSING',
    'STALE',
    'PURGED',
    'OUT OF SCOPE',
    r.isFix ? 'FIXED' : 'OUTCOME',
  ];
  const rows = r.databases.map((d) => [
    d.database,
    d.serverDocs.toLocaleString('en'),
    d.rows.toLocaleString('en'),
    String(d.missing),
    String(d.stale),
    String(d.purged),
    String(d.outOfScope),
    r.isFix && d.outcome === 'done' ? `${d.fetched} fetched, ${d.marked} marked deleted` : d.outcome,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(header), ...rows.map(line)];
  for (const d of r.databases) {
    if (d.error) out.push(`${d.database}: ${d.error.message}`);
    const examples = [
      ...d.samples.missing.map((id) => `missing ${id}`),
      ...d.samples.stale.map((id) => `stale ${id}`),
      ...d.samples.purged.map((id) => `purged ${id}`),
      ...d.samples.outOfScope.map((id) => `out of scope ${id}`),
    ].slice(0, 5);
    if (examples.length) out.push(`${d.database} examples: ${examples.join('; ')}`);
  }
  const found = r.databases.reduce((n, d) => n + d.missing + d.stale + d.purged + d.outOfScope, 0);
  if (found > 0 && !r.isFix)
    out.push(
      'Run `cht-sync verify --fix` to fetch the missing and out-of-date documents and mark the rows gone from the server deleted.',
    );
  out.push(`Recorded in the run history as run #${r.runId}.`);
  return `\n${out.join('\n')}`;
}
