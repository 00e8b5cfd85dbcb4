import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MetricsRegistry } from '../../../app/core/metrics-registry';
import { silentLogger } from '../../../app/core/logger';
import { MetricsService, SyncMetrics } from '../../../app/engine/services/metrics-service';

/** Parses the exposition text into { 'name{labels}': value } and the HELP/TYPE lines. */
function parse(text: string): { samples: Map<string, number>; types: Map<string, string>; helps: Set<string> } {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  const helps = new Set<string>();
  for (const line of text.trimEnd().split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    else if (line.startsWith('# HELP ')) helps.add(line.split(' ')[2]!);
    else {
      const m = /^(\S+?(?:\{.*\})?) (\S+)$/.exec(line);
      assert.ok(m, `not a sample line: ${line}`);
      samples.set(m[1]!, Number(m[2]));
    }
  }
  return { samples, types, helps };
}

describe('metrics registry (Prometheus text format)', () => {
  it('writes HELP/TYPE and samples, escapes label values, and keeps histogram buckets cumulative', () => {
    const r = new MetricsRegistry();
    const c = r.counter('x_events_total', 'Events.\nSecond line', ['database']);
    const h = r.histogram('x_duration_seconds', 'Durations.', ['model'], [0.1, 1]);
    c.inc({ database: 'medic' }, 3);
    c.inc({ database: 'a"b\\c\nd' });
    h.observe({ model: 'm' }, 0.05);
    h.observe({ model: 'm' }, 0.5);
    h.observe({ model: 'm' }, 5);
    const text = r.expose();
    assert.match(text, /^# HELP x_events_total Events\.\\nSecond line$/m);
    assert.match(text, /^x_events_total\{database="a\\"b\\\\c\\nd"\} 1$/m);
    const { samples, types } = parse(text);
    assert.equal(types.get('x_events_total'), 'counter');
    assert.equal(types.get('x_duration_seconds'), 'histogram');
    assert.equal(samples.get('x_events_total{database="medic"}'), 3);
    assert.equal(samples.get('x_duration_seconds_bucket{model="m",le="0.1"}'), 1);
    assert.equal(samples.get('x_duration_seconds_bucket{model="m",le="1"}'), 2);
    assert.equal(samples.get('x_duration_seconds_bucket{model="m",le="+Inf"}'), 3);
    assert.equal(samples.get('x_duration_seconds_count{model="m"}'), 3);
    assert.equal(samples.get('x_duration_seconds_sum{model="m"}'), 5.55);
  });

  it('refuses names against the conventions, decreasing counters and unknown labels', () => {
    const r = new MetricsRegistry();
    assert.throws(() => r.counter('x_events', 'no _total'), /_total/);
    assert.throws(() => r.gauge('x-bad', 'dash'), /valid Prometheus name/);
    const c = r.counter('y_total', 'y', ['database']);
    assert.throws(() => c.inc({ database: 'a' }, -1), /only goes up/);
    assert.throws(() => c.inc({ database: 'a', other: 'b' } as never), /unknown label/);
    assert.throws(() => r.counter('y_total', 'twice'), /twice/);
  });
});

describe('cht-sync metrics from engine events', () => {
  it('counts documents, refused documents and batches per database; pending, state and last success; runs and models', () => {
    const m = new SyncMetrics('9.9.9');
    m.databases(['medic', 'medic-sentinel']);
    m.onSyncEvent({
      type: 'batch',
      database: 'medic',
      source: 'h/medic',
      docs: 1000,
      deletes: 10,
      skipped: 2,
      bytes: 5000,
      seconds: 0.2,
      seq: '1',
    });
    m.onSyncEvent({
      type: 'batch',
      database: 'medic',
      source: 'h/medic',
      docs: 500,
      deletes: 0,
      skipped: 0,
      bytes: 2500,
      seconds: 0.1,
      seq: '2',
    });
    m.onSyncEvent({
      type: 'progress',
      database: 'medic',
      source: 'h/medic',
      docs: 1500,
      deletes: 10,
      bytes: 7500,
      pending: 42,
      isPendingEstimate: false,
      docsPerSecond: 100,
      etaSeconds: 1,
    });
    m.onSyncEvent({
      type: 'state',
      database: 'medic',
      source: 'h/medic',
      state: { kind: 'live', since: new Date().toISOString() },
    });
    m.onTransformRun({
      id: 1,
      kind: 'transform',
      trigger: 'daemon',
      outcome: 'done',
      startedAt: '',
      finishedAt: '',
      count: 3,
      errorCount: 0,
      summary: '',
    });
    m.onTransformRun(
      {
        id: 2,
        kind: 'transform',
        trigger: 'daemon',
        outcome: 'done',
        startedAt: '',
        finishedAt: '',
        count: 0,
        errorCount: 0,
        summary: '',
      },
      { isCoalesced: true },
    );
    m.onModelFinished({
      model: 'contact',
      uniqueId: 'p.contact',
      materialized: 'incremental',
      status: 'success',
      rowsAffected: 5,
      seconds: 0.3,
    });
    m.onModelFinished({
      model: 'person',
      uniqueId: 'p.person',
      materialized: 'incremental',
      status: 'error',
      rowsAffected: null,
      seconds: 0.1,
    });
    m.onModelFinished({
      model: 'not_null_person_uuid',
      uniqueId: 'test.p.nn',
      materialized: 'test',
      resourceType: 'test',
      status: 'fail',
      rowsAffected: null,
      seconds: 0.1,
    });
    m.onModelFinished({
      model: 'unique_person_uuid',
      uniqueId: 'test.p.u',
      materialized: 'test',
      resourceType: 'test',
      status: 'pass',
      rowsAffected: null,
      seconds: 0.1,
    });
    const { samples, types, helps } = parse(m.registry.expose());
    assert.equal(samples.get('cht_sync_test_failures_total{test="not_null_person_uuid"}'), 1);
    assert.equal(samples.get('cht_sync_test_failures_total{test="unique_person_uuid"}'), 0);
    assert.equal(samples.get('cht_sync_model_duration_seconds_count{model="not_null_person_uuid"}'), undefined);
    for (const name of types.keys()) assert.ok(helps.has(name), `${name} has HELP`);
    assert.equal(samples.get('cht_sync_documents_synced_total{database="medic"}'), 1500);
    assert.equal(samples.get('cht_sync_documents_synced_total{database="medic-sentinel"}'), 0);
    assert.equal(samples.get('cht_sync_refused_documents_total{database="medic"}'), 2);
    assert.equal(samples.get('cht_sync_batches_total{database="medic"}'), 2);
    assert.equal(samples.get('cht_sync_pending_documents{database="medic"}'), 42);
    assert.equal(samples.get('cht_sync_database_state{database="medic",state="live"}'), 1);
    assert.equal(samples.get('cht_sync_database_state{database="medic",state="error"}'), 0);
    assert.ok(
      Math.abs(samples.get('cht_sync_last_success_timestamp_seconds{database="medic"}')! - Date.now() / 1000) < 5,
    );
    assert.equal(samples.get('cht_sync_transform_runs_total{outcome="done"}'), 1);
    assert.equal(samples.get('cht_sync_transform_runs_total{outcome="coalesced"}'), 1);
    assert.equal(samples.get('cht_sync_transform_runs_total{outcome="failed"}'), 0);
    assert.equal(samples.get('cht_sync_model_duration_seconds_count{model="contact"}'), 1);
    assert.equal(samples.get('cht_sync_model_failures_total{model="person"}'), 1);
    assert.equal(samples.get('cht_sync_build_info{version="9.9.9"}'), 1);
    assert.ok(samples.get('process_resident_memory_bytes')! > 1e6);
    assert.equal(types.get('cht_sync_model_duration_seconds'), 'histogram');
  });

  it('serves /healthz, /readyz and /metrics on its own port; /readyz is 503 when not ready', async () => {
    const metrics = new SyncMetrics('1.0.0');
    let ready = true;
    const service = new MetricsService({
      port: 0,
      host: '127.0.0.1',
      metrics,
      logger: silentLogger,
      readiness: async () => ({
        ok: ready,
        checks: { postgres: { ok: ready, ...(ready ? {} : { message: 'PostgreSQL cannot be reached' }) } },
      }),
    });
    await service.start();
    try {
      const url = service.url!;
      assert.equal((await fetch(`${url}/healthz`)).status, 200);
      assert.equal((await fetch(`${url}/readyz`)).status, 200);
      ready = false;
      const notReady = await fetch(`${url}/readyz`);
      assert.equal(notReady.status, 503);
      assert.match(await notReady.text(), /cannot be reached/);
      const res = await fetch(`${url}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      assert.match(await res.text(), /^# TYPE cht_sync_documents_synced_total counter$/m);
      assert.equal((await fetch(`${url}/other`)).status, 404);
      assert.equal((await fetch(`${url}/metrics`, { method: 'POST' })).status, 405);
    } finally {
      await service.stop();
    }
  });
});
