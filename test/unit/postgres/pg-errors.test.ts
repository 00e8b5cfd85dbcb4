import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EngineError } from '../../../app/core/engine-error';
import { translatePgError, type PgTarget } from '../../../app/postgres/pg-errors';

/** A driver error as pg raises it: an Error with a SQLSTATE (or socket) code. */
function pgError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

const target: PgTarget = {
  host: 'db.example.org',
  port: 5433,
  user: 'cht',
  database: 'analytics',
  hasPassword: true,
  setting: 'POSTGRES_HOST',
};

describe('translatePgError: one rule for every PostgreSQL failure', () => {
  const cases: [string, string, string, boolean][] = [
    ['ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432', 'PG_UNREACHABLE', true],
    ['ENOTFOUND', 'getaddrinfo ENOTFOUND db', 'PG_UNREACHABLE', true],
    ['ETIMEDOUT', 'connect ETIMEDOUT', 'PG_UNREACHABLE', true],
    ['57P01', 'terminating connection due to administrator command', 'PG_UNREACHABLE', true],
    ['08006', 'connection failure', 'PG_UNREACHABLE', true],
    ['53300', 'sorry, too many clients already', 'PG_UNREACHABLE', true],
    ['28P01', 'password authentication failed for user "cht"', 'PG_AUTH', false],
    ['28000', 'role "cht" does not exist', 'PG_AUTH', false],
    ['42501', 'permission denied for schema v1', 'PG_PERMISSION', false],
    ['3D000', 'database "analytics" does not exist', 'CONFIG_INVALID', false],
    ['40P01', 'deadlock detected', 'PG_QUERY', true],
    ['53100', 'could not extend file: No space left on device', 'PG_QUERY', true],
    ['42P01', 'relation "v1.nope" does not exist', 'PG_QUERY', false],
  ];
  for (const [code, message, expected, retryable] of cases) {
    it(`${code} is ${expected}${retryable ? ' (retryable)' : ''}, with or without the connection's target`, () => {
      for (const t of [undefined, target]) {
        const e = translatePgError(pgError(code, message), 'writing a batch', t);
        assert.equal(e.code, expected, `${code} ${t ? 'with' : 'without'} target`);
        assert.equal(e.retryable, retryable, `${code} ${t ? 'with' : 'without'} target: retryable`);
      }
    });
  }

  it('a missing database is the user’s to fix: it names POSTGRES_DB, and the database when known', () => {
    const plain = translatePgError(pgError('3D000', 'database "analytics" does not exist'), 'starting the sync');
    assert.match(plain.message, /POSTGRES_DB/);
    assert.match(plain.message, /while starting the sync/);
    const named = translatePgError(pgError('3D000', 'database "analytics" does not exist'), 'connecting', target);
    assert.match(named.message, /database 'analytics' does not exist on db\.example\.org:5433/);
  });

  it('an EngineError passes through unchanged', () => {
    const original = new EngineError('CANCELLED', 'stopped');
    assert.equal(translatePgError(original, 'anything'), original);
  });
});
