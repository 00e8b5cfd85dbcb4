import { EngineError, toWireError } from '../../core/engine-error';
import { safeUrl } from '../../core/redact';
import { openEngine, preflightCouch, preflightPostgres, type CliEngine } from '../common';
import type { CliContext } from '../context';
import { EXIT } from '../exit-codes';
import { ago, count, shortSeq } from '../output';

export interface DoctorCheck {
  name: string;
  ok: boolean;
  message: string;
  details?: Record<string, unknown>;
}

/** A database whose backlog has not moved for this long, with changes waiting, needs a look. */
const STALE_SECONDS = 15 * 60;

/**
 * `cht-sync doctor`: one command an operator (or a probe: `--json`, exit code) runs to see
 * whether a service is healthy: the configuration resolves; CouchDB answers and has every
 * database; PostgreSQL answers and the schema may be written; the raw table and each
 * database's position (couchdb_progress, which every service shares); recent runs in this
 * data folder; and, when given, a running service's /readyz. Read-only: it starts nothing and
 * writes nothing (a service may be running on the same data folder).
 */
export async function doctorCommand(ctx: CliContext, o: { metricsUrl?: string } = {}): Promise<number> {
  // An observer: a service may be running on the same data folder; its runs are left alone.
  const engine = await openEngine(ctx, 'in-process', { isObserver: true });
  try {
    return await diagnose(ctx, engine, o);
  } finally {
    await engine.close();
  }
}

async function diagnose(ctx: CliContext, engine: CliEngine, o: { metricsUrl?: string }): Promise<number> {
  const config = engine.config();
  const checks: DoctorCheck[] = [];
  const attempt = async (name: string, f: () => Promise<Omit<DoctorCheck, 'name'>>): Promise<void> => {
    try {
      checks.push({ name, ...(await f()) });
    } catch (error) {
      const wire = toWireError(error);
      checks.push({ name, ok: false, message: wire.message, details: { code: wire.code } });
    }
  };
  const couch = config.couch;
  checks.push({
    name: 'configuration',
    ok: couch !== null,
    message: couch
      ? `CouchDB ${couch.url} (${couch.databases.join(', ')}) → PostgreSQL ${config.postgres.kind === 'external' ? safeUrl(config.postgres.url) : 'embedded'}, ${config.schema}.${config.table}`
      : 'No CHT instance is configured (COUCHDB_HOST / --couch-url).',
  });
  if (couch) {
    await attempt('couchdb', async () => {
      await preflightCouch(engine);
      return { ok: true, message: `${couch.url} answers; databases present: ${couch.databases.join(', ')}` };
    });
  }
  if (config.postgres.kind === 'external') {
    const url = config.postgres.url;
    await attempt('postgres', async () => {
      await preflightPostgres(engine);
      return { ok: true, message: `${safeUrl(url)} answers; the schema ${config.schema} may be written` };
    });
    await attempt('raw-table', async () => {
      const inspected = await engine.inspectRaw();
      if (!inspected) return { ok: true, message: 'the embedded PostgreSQL (not inspected here)' };
      const { raw, sources } = inspected;
      if (!raw.isTablePresent)
        return { ok: true, message: `${config.schema}.${config.table} does not exist yet (the first sync creates it)` };
      for (const p of raw.progress) {
        const database = sources.find((s) => s.source === p.source)?.database ?? p.source;
        const age = p.updatedAt ? (Date.now() - Date.parse(p.updatedAt)) / 1000 : null;
        const isStale = p.pending !== null && p.pending > 0 && age !== null && age > STALE_SECONDS;
        checks.push({
          name: `database ${database}`,
          ok: p.seq !== null && !isStale,
          message:
            p.seq === null
              ? `${database}: nothing synced yet (no position in couchdb_progress for ${p.source})`
              : `${database}: at seq ${shortSeq(p.seq)}, ${p.pending === null ? 'pending unknown' : `${count(p.pending)} pending`}, position saved ${ago(p.updatedAt)}${isStale ? ' — changes are waiting but the position has not moved: is a service running?' : ''}`,
          details: { source: p.source, seq: p.seq, pending: p.pending, updatedAt: p.updatedAt },
        });
      }
      return {
        ok: true,
        message: `${config.schema}.${config.table}: about ${count(raw.rowsEstimate ?? 0)} rows, newest ${raw.newestRowAt ? ago(raw.newestRowAt) : 'none'}; sources: ${raw.allSources.join(', ') || 'none yet'}`,
        details: { rowsEstimate: raw.rowsEstimate, newestRowAt: raw.newestRowAt, sources: raw.allSources },
      };
    });
  } else {
    checks.push({
      name: 'postgres',
      ok: true,
      message: 'the embedded PostgreSQL (started by cht-sync itself; not checked here)',
    });
  }
  await attempt('recent runs', async () => {
    const runs = await engine.handlers['runs.list']({ limit: 10 });
    const lastSync = runs.find((r) => r.kind === 'sync' && r.outcome !== 'running');
    const lastTransform = runs.find((r) => r.kind === 'transform' && r.outcome !== 'running');
    const isBad = (outcome: string | undefined) => outcome !== undefined && ['failed', 'refused'].includes(outcome);
    const describe = (r: (typeof runs)[number] | undefined) =>
      r ? `#${r.id} ${r.outcome} ${ago(r.finishedAt ?? r.startedAt)} (${r.summary})` : 'none';
    return {
      ok: !isBad(lastSync?.outcome) && !isBad(lastTransform?.outcome),
      message: `last sync run ${describe(lastSync)}; last transform run ${describe(lastTransform)}`,
      details: { recent: runs },
    };
  });
  const metricsUrl =
    o.metricsUrl ?? (ctx.env.CHT_SYNC_METRICS_PORT ? `http://127.0.0.1:${ctx.env.CHT_SYNC_METRICS_PORT}` : undefined);
  if (metricsUrl) {
    await attempt('service', async () => {
      let response: Response;
      try {
        response = await fetch(`${metricsUrl.replace(/\/$/, '')}/readyz`, { signal: AbortSignal.timeout(5_000) });
      } catch (error) {
        throw new EngineError(
          'INTERNAL',
          `No service answers at ${safeUrl(metricsUrl)} (${(error as Error).message}).`,
        );
      }
      const body = (await response.json().catch(() => null)) as {
        checks?: Record<string, { ok: boolean; message?: string }>;
      } | null;
      const failing = Object.entries(body?.checks ?? {}).filter(([, c]) => !c.ok);
      return {
        ok: response.ok,
        message: response.ok
          ? `the service at ${safeUrl(metricsUrl)} is ready`
          : `the service at ${safeUrl(metricsUrl)} is not ready: ${failing.map(([k, c]) => `${k}: ${c.message ?? 'failing'}`).join('; ')}`,
        ...(body ? { details: body as Record<string, unknown> } : {}),
      };
    });
  }
  const ok = checks.every((c) => c.ok);
  if (ctx.isJson) ctx.io.stdout(JSON.stringify({ ok, checks }, null, 2));
  else {
    for (const c of checks) ctx.say(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}: ${c.message}`);
    ctx.say(ok ? 'All checks passed.' : 'Some checks failed (see above).');
  }
  return ok ? EXIT.ok : EXIT.incomplete;
}
