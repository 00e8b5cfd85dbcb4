import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { levenshtein, nearMiss } from '../../../app/preflight/near-miss';

const DBS = ['_users', '_replicator', 'medic', 'medic-sentinel', 'medic-users-meta', 'medic-logs'];

describe('nearMiss', () => {
  it('matches names that differ in - / _ / case first', () => {
    assert.equal(nearMiss('medic_sentinel', DBS), 'medic-sentinel');
    assert.equal(nearMiss('MEDIC-USERS_META', DBS), 'medic-users-meta');
  });
  it('falls back to a small edit distance', () => {
    assert.equal(nearMiss('medic-sentinal', DBS), 'medic-sentinel');
    assert.equal(nearMiss('medik', DBS), 'medic');
    assert.equal(nearMiss('users', DBS), '_users');
  });
  it('suggests nothing for a distant name', () => {
    assert.equal(nearMiss('analytics', DBS), null);
    assert.equal(nearMiss('x', []), null);
  });
  it('levenshtein', () => {
    assert.equal(levenshtein('kitten', 'sitting'), 3);
    assert.equal(levenshtein('', 'abc'), 3);
    assert.equal(levenshtein('same', 'same'), 0);
  });
});
