import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { localDiskError } from '../../../app/core/disk-error';
import { syncAdapters } from '../../../app/engine/sync-wiring';
import type { SyncOptions } from '../../../app/sync';

/** Issue 11 #9: a full disk in the data folder is a disk problem, not a CouchDB failure. */
describe('local disk errors during a sync', () => {
  const adapters = syncAdapters({
    couch: { url: 'https://cht.example.org', databases: ['medic'] },
  } as unknown as SyncOptions);
  const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), {
    code: 'ENOSPC',
    path: '/data/cht/logs/cht-sync.log',
  });

  it('ENOSPC, a full SQLite database and a read-only disk are STORE errors naming the data folder', () => {
    const full = adapters.sourceError(enospc, 'medic');
    assert.equal(full.code, 'STORE');
    assert.match(full.message, /disk of this computer's data folder is full \(\/data\/cht\/logs\/cht-sync\.log\)/);
    assert.doesNotMatch(full.message, /CouchDB|cht\.example\.org/);
    assert.equal(
      adapters.sourceError(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }), 'medic').code,
      'STORE',
    );
    assert.equal(adapters.sourceError(Object.assign(new Error('x'), { code: 'EROFS' }), 'medic').code, 'STORE');
    // Wrapped as a cause, still found.
    assert.equal(localDiskError(new Error('write failed', { cause: enospc }))?.code, 'STORE');
  });

  it('a network failure is still CouchDB’s', () => {
    const reset = adapters.sourceError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'medic');
    assert.notEqual(reset.code, 'STORE');
    assert.match(reset.code, /^COUCH_/);
  });
});
