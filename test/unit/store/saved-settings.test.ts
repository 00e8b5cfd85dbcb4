import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultSavedSettings, mergeSettings } from '../../../app/store/saved-settings';

describe('saved settings merge', () => {
  it('merges couch and advanced field by field, replaces tagged unions whole', () => {
    const base = mergeSettings(defaultSavedSettings(), {
      couch: { url: 'https://a', username: 'u', databases: ['medic'], trustedFingerprint256: null },
      postgres: { kind: 'external', host: 'h', port: 5432, database: 'd', username: 'p', ssl: true },
      schedule: { kind: 'interval', minutes: 30 },
    });
    const next = mergeSettings(base, {
      couch: { databases: ['medic', '_users'] } as never,
      advanced: { threads: 4 } as never,
      postgres: { kind: 'embedded', port: null },
      schedule: { kind: 'manual' },
    });
    assert.deepEqual(next.couch, {
      url: 'https://a',
      username: 'u',
      databases: ['medic', '_users'],
      trustedFingerprint256: null,
    });
    assert.deepEqual(next.advanced, { batchSize: 1000, threads: 4, transformBatchSize: null });
    assert.deepEqual(next.postgres, { kind: 'embedded', port: null });
    assert.deepEqual(next.schedule, { kind: 'manual' });
  });

  it('ignores undefined fields and never mutates its inputs', () => {
    const base = defaultSavedSettings();
    const copy = structuredClone(base);
    const next = mergeSettings(base, { schema: undefined, table: 'raw' });
    assert.equal(next.schema, 'v1');
    assert.equal(next.table, 'raw');
    assert.deepEqual(base, copy);
  });

  it('defaults are cht-sync’s', () => {
    const d = defaultSavedSettings();
    assert.equal(d.schema, 'v1');
    assert.equal(d.table, 'couchdb');
    assert.deepEqual(d.pipeline, { kind: 'bundled' });
    assert.deepEqual(d.postgres, { kind: 'embedded', port: null });
    assert.equal(d.isSetupComplete, false);
  });
});
