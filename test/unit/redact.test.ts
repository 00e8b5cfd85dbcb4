import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redact, registerSecret, safeUrl } from '../../app/core/redact';
import { EngineError, toWireError } from '../../app/core/engine-error';
import { memoryLogger } from '../../app/core/logger';

describe('redact', () => {
  it('masks passwords inside URLs but keeps the user and host', () => {
    assert.equal(
      redact('GET http://admin:s3cret@couch.example:5984/medic failed'),
      'GET http://admin:***@couch.example:5984/medic failed',
    );
    assert.equal(redact('postgres://cht:p%40ss@db:5432/x'), 'postgres://cht:***@db:5432/x');
  });

  it('issue 11 #4: a password holding @ or / is masked whole, in a URL as typed and percent-encoded', () => {
    assert.equal(
      redact('connect http://admin:Pa@ssLeak1@host.example:5984 failed'),
      'connect http://admin:***@host.example:5984 failed',
    );
    assert.equal(
      redact("--couch-url must be a URL (got 'http://admin:Pa/ssLeak2@127.0.0.1:1')."),
      "--couch-url must be a URL (got 'http://admin:***@127.0.0.1:1').",
    );
    registerSecret('Zeb@ra/Secret9');
    assert.doesNotMatch(redact('url http://x.example/?p=Zeb%40ra%2FSecret9 and Zeb@ra/Secret9'), /Zeb|Secret9/);
  });

  it('masks values of secret-named keys in text and JSON', () => {
    assert.equal(redact('password=hunter22 user=bob'), 'password=*** user=bob');
    assert.equal(redact('{"derived_key":"abc123","name":"joyce"}'), '{"derived_key":"***","name":"joyce"}');
    assert.equal(redact('Authorization: Basic YWRtaW46cGFzcw=='), 'Authorization: Basic ***');
  });

  it('masks registered secrets wherever they appear', () => {
    registerSecret('correct-horse-battery');
    assert.equal(redact('auth failed for correct-horse-battery!'), 'auth failed for ***!');
  });

  it('safeUrl removes the password and secret query parameters', () => {
    assert.equal(safeUrl('https://u:pw1234@h.example/db?token=abcd&x=1'), 'https://u:***@h.example/db?token=***&x=1');
  });

  it('engine errors and logs never carry a secret', () => {
    registerSecret('pg-secret-value');
    const error = new EngineError('PG_AUTH', 'login failed with pg-secret-value', {
      details: { url: 'postgres://a:pg-secret-value@h/db' },
    });
    const wire = toWireError(error);
    assert.doesNotMatch(JSON.stringify(wire), /pg-secret-value/);
    const logger = memoryLogger();
    logger.error('connect postgres://a:pg-secret-value@h/db', { password: 'pg-secret-value' });
    assert.doesNotMatch(JSON.stringify(logger.entries), /pg-secret-value/);
    assert.equal(toWireError(new Error('x')).code, 'INTERNAL');
  });
});
