import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hierarchyFromSettings } from '../../../app/scope/list-places';
import {
  MAX_LINEAGE_DEPTH,
  matchSelector,
  matchesScope,
  medicDatabaseOf,
  parseScopeList,
  scopeSelector,
  scopedDatabaseKind,
} from '../../../app/scope/selector';

const scope = { placeIds: ['district-a'], userNames: ['chw_a'] };
const lineage = (...ids: string[]): Record<string, unknown> | undefined =>
  ids.reduceRight<Record<string, unknown> | undefined>(
    (parent, id) => (parent ? { _id: id, parent } : { _id: id }),
    undefined,
  );

describe('scope selector (CouchDB _selector filter for a district)', () => {
  it("medic: the place, its contacts at any depth, reports by submitter lineage, the users' tasks, targets and settings, the shared docs", () => {
    const inScope = [
      { _id: 'district-a', type: 'district_hospital' },
      { _id: 'hc', type: 'health_center', parent: lineage('district-a') },
      { _id: 'p', type: 'person', parent: lineage('hh', 'hc', 'district-a') },
      {
        _id: 'deep',
        type: 'contact',
        contact_type: 'x',
        parent: lineage(...Array.from({ length: MAX_LINEAGE_DEPTH - 1 }, (_, i) => `l${i}`), 'district-a'),
      },
      {
        _id: 'r',
        type: 'data_record',
        form: 'pregnancy',
        contact: lineage('chw', 'hc', 'district-a'),
        fields: { patient_id: '12345' },
      },
      { _id: 'sms', type: 'data_record', contact: lineage('district-a') },
      { _id: 'task~org.couchdb.user:chw_a~x~1', type: 'task', user: 'org.couchdb.user:chw_a', owner: 'p' },
      { _id: 'target~2026-01~chw~org.couchdb.user:chw_a', type: 'target', user: 'org.couchdb.user:chw_a' },
      { _id: 'org.couchdb.user:chw_a', type: 'user-settings', facility_id: ['hc'] },
      { _id: 'settings', settings: {} },
      { _id: 'form:pregnancy', type: 'form' },
      { _id: 'messages-en', type: 'translations' },
      { _id: 'gone', _rev: '2-x', _deleted: true },
      { _id: 'p2', type: 'person', parent: lineage('hc', 'district-a'), _deleted: true },
      {
        _id: 'old____2-x____tombstone',
        type: 'tombstone',
        tombstone: { _id: 'old', type: 'person', parent: lineage('hc', 'district-a') },
      },
    ];
    const outOfScope = [
      { _id: 'district-b', type: 'district_hospital' },
      { _id: 'q', type: 'person', parent: lineage('hh2', 'hc2', 'district-b') },
      {
        _id: 'too-deep',
        type: 'contact',
        parent: lineage(...Array.from({ length: MAX_LINEAGE_DEPTH }, (_, i) => `l${i}`), 'district-a'),
      },
      { _id: 'r2', type: 'data_record', form: 'pregnancy', contact: lineage('chw2', 'hc2', 'district-b') },
      { _id: 'task~org.couchdb.user:chw_b~x~1', type: 'task', user: 'org.couchdb.user:chw_b' },
      { _id: 'org.couchdb.user:chw_b', type: 'user-settings', facility_id: 'hc2' },
      { _id: 'q2', type: 'person', parent: lineage('hc2', 'district-b'), _deleted: true },
      { _id: 'shortcode-id-length', current_length: 5 },
    ];
    for (const doc of inScope) assert.ok(matchesScope('medic', doc, scope), `${doc._id} is in scope`);
    for (const doc of outOfScope) assert.ok(!matchesScope('medic', doc, scope), `${doc._id} is not in scope`);
  });

  it("_users and medic-users-meta: the district users' docs and every body-less deletion", () => {
    assert.ok(matchesScope('_users', { _id: 'org.couchdb.user:chw_a', type: 'user' }, scope));
    assert.ok(!matchesScope('_users', { _id: 'org.couchdb.user:chw_b', type: 'user' }, scope));
    assert.ok(matchesScope('_users', { _id: 'org.couchdb.user:chw_b', _deleted: true }, scope));
    assert.ok(
      matchesScope(
        'medic-users-meta',
        { _id: 'feedback-1', type: 'feedback', meta: { user: { name: 'chw_a' } } },
        scope,
      ),
    );
    assert.ok(
      matchesScope('medic-users-meta', { _id: 'telemetry-1', type: 'telemetry', metadata: { user: 'chw_a' } }, scope),
    );
    assert.ok(
      !matchesScope('medic-users-meta', { _id: 'telemetry-2', type: 'telemetry', metadata: { user: 'chw_b' } }, scope),
    );
  });

  it('the selector is CouchDB JSON: $or of field conditions, user ids prefixed, no user rules without users', () => {
    const selector = scopeSelector('medic', { placeIds: ['d'], userNames: [] }) as { $or: Record<string, unknown>[] };
    assert.deepEqual(selector.$or[0], { _deleted: true, type: { $exists: false } });
    assert.ok(selector.$or.some((r) => 'parent.parent._id' in r));
    assert.ok(!JSON.stringify(selector).includes('org.couchdb.user:'));
    assert.ok(JSON.stringify(scopeSelector('medic', scope)).includes('"org.couchdb.user:chw_a"'));
    assert.deepEqual(JSON.parse(JSON.stringify(selector)), selector);
    assert.ok(
      matchSelector({ facility_id: { $in: ['x'] } }, { facility_id: ['y', 'x'] }),
      '$in matches an array field by any element, as CouchDB does',
    );
  });

  it('databases without lineage are refused by name; the medic database is found whatever its prefix', () => {
    assert.throws(() => scopedDatabaseKind('medic-sentinel'), /"medic-sentinel" cannot be limited to a district/);
    assert.throws(() => scopedDatabaseKind('medic-logs'), /CONFIG_INVALID|cannot be limited/);
    assert.equal(scopedDatabaseKind('medic-users-meta'), 'users-meta');
    assert.equal(medicDatabaseOf(['_users', 'chis', 'chis-users-meta']), 'chis');
    assert.throws(() => scopeSelector('medic', { placeIds: [], userNames: [] }), /names no place/);
  });

  it('--scope / CHT_SYNC_SCOPE lists: commas or spaces, blanks and duplicates dropped', () => {
    assert.deepEqual(parseScopeList(' a, b  c,,a '), ['a', 'b', 'c']);
    assert.deepEqual(parseScopeList(['a,b', 'b']), ['a', 'b']);
    assert.deepEqual(parseScopeList(undefined), []);
  });

  it('hierarchy levels from contact_types; the fixed hierarchy without them', () => {
    const levels = hierarchyFromSettings({
      settings: {
        contact_types: [
          { id: 'region' },
          { id: 'district', parents: ['region'] },
          { id: 'area', parents: ['district'] },
          { id: 'member', parents: ['area'], person: true },
        ],
      },
    });
    assert.deepEqual(
      levels.map((t) => `${t.id}:${t.level}:${t.isPerson}`),
      ['region:1:false', 'district:2:false', 'area:3:false', 'member:4:true'],
    );
    assert.deepEqual(
      hierarchyFromSettings(null)
        .slice(0, 2)
        .map((t) => `${t.id}:${t.level}`),
      ['district_hospital:1', 'health_center:2'],
    );
  });
});
