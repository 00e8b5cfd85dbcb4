import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compactRow, prepareRow, stripNulEscapes } from '../../../app/sync/sanitise';
import { precedenceFor, sourceFor } from '../../../app/sync/source-name';
import type { ChangeRow } from '../../../app/sync/ports';

const row = (doc: Record<string, unknown> | null, extra: Partial<ChangeRow> = {}): ChangeRow => ({
  id: String(doc?._id ?? 'x'),
  seq: null,
  deleted: false,
  doc,
  rev: '1-a',
  bytes: 0,
  ...extra,
});

describe('sanitising', () => {
  it('removes NUL characters and nothing else', () => {
    const doc = { a: 'x\u0000y', b: 'C:\\u0000dir', c: '\\\u0000', d: 'tab\there "q"', ['k\u0000ey']: 1 };
    const prepared = prepareRow(row({ _id: 'n', ...doc }), false);
    assert.ok('json' in prepared);
    const back = JSON.parse(prepared.json) as Record<string, unknown>;
    assert.equal(back.a, 'xy');
    assert.equal(back.b, 'C:\\u0000dir', 'a literal backslash + "u0000" stays');
    assert.equal(back.c, '\\', 'a backslash before a NUL stays');
    assert.equal(back.d, 'tab\there "q"');
    assert.equal(back.key, 1);
  });

  it('leaves text without NULs untouched (same string)', () => {
    const s = '{"a":"\\\\u0000"}';
    assert.equal(stripNulEscapes(s), s);
    assert.equal(stripNulEscapes('{"a":"\\\\\\u0000"}'), '{"a":"\\\\"}');
  });

  it('strips password hashes from _users docs, tombstones included, and from user docs anywhere', () => {
    const user = {
      _id: 'org.couchdb.user:a',
      type: 'user',
      name: 'a',
      password_scheme: 'pbkdf2',
      pbkdf2_prf: 'sha256',
      iterations: 10,
      derived_key: 'k',
      salt: 's',
    };
    for (const [doc, isUsersDb] of [
      [user, true],
      [{ ...user, _deleted: true }, true],
      [user, false],
    ] as const) {
      const prepared = prepareRow(row(doc), isUsersDb);
      assert.ok('json' in prepared);
      assert.deepEqual(
        Object.keys(JSON.parse(prepared.json) as object).sort(),
        Object.keys(doc)
          .filter((k) => !['password_scheme', 'pbkdf2_prf', 'iterations', 'derived_key', 'salt'].includes(k))
          .sort(),
      );
    }
    assert.equal(user.salt, 's', 'the input doc is not mutated');
    const settings = prepareRow(
      row({ _id: 'org.couchdb.user:a', type: 'user-settings', salt: 'not a secret here' }),
      false,
    );
    assert.ok('json' in settings && settings.json.includes('salt'));
  });

  it('a delete without a body becomes a stub; a live row without a body is refused', () => {
    const stub = prepareRow(row(null, { id: 'gone', deleted: true, rev: '3-abc' }), false);
    assert.deepEqual('json' in stub && JSON.parse(stub.json), { _id: 'gone', _rev: '3-abc', _deleted: true });
    assert.equal('json' in stub && stub.deleted, true);
    const full = prepareRow(row({ _id: 'p', type: 'person', _deleted: true }), false);
    assert.equal('json' in full && full.deleted, true, 'doc._deleted marks a delete too');
    assert.ok('reason' in prepareRow(row(null, { id: 'live' }), false));
  });
});

describe('compacting rows as they arrive', () => {
  it('keeps only the sanitised text, and prepares to the same result', () => {
    const original = row({ _id: 'org.couchdb.user:z', type: 'user', salt: 's', note: 'a\u0000b' }, { deleted: false });
    const compact = compactRow(original, true);
    assert.equal(compact.doc, null);
    assert.deepEqual(prepareRow(compact, true), prepareRow(original, true));
    assert.equal(compact.json?.includes('salt'), false);
    const bodiless = row(null, { id: 'live' });
    assert.equal(
      compactRow(bodiless, false),
      bodiless,
      'a row that cannot be stored stays as it is (and is skipped later)',
    );
  });
});

describe('source names', () => {
  it('is <hostname>/<db> like cht-sync: no port, no credentials, no path prefix', () => {
    assert.equal(sourceFor('https://admin:pw@CHT.Example.org:5984/', 'medic'), 'cht.example.org/medic');
    assert.equal(sourceFor('http://10.0.0.5:5984/couchdb/', '_users'), '10.0.0.5/_users');
  });

  it('puts _users last in the precedence, whatever the configured order', () => {
    assert.deepEqual(precedenceFor('http://h:5984', ['_users', 'medic', 'medic-sentinel']), [
      'h/medic',
      'h/medic-sentinel',
      'h/_users',
    ]);
  });
});
