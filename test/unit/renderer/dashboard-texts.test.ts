import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DatabaseStatus } from '../../../app/contract/dto';
import { makeTranslate } from '../../../renderer/i18n/use-t';
import { currentAsOfText, scheduleText } from '../../../renderer/screens/dashboard-screen';

/** Issue 11 #16: the dashboard never contradicts itself. */
describe('dashboard texts', () => {
  const t = makeTranslate('en');
  const status = (kind: 'live' | 'idle', lastSuccessAt: string | null): DatabaseStatus =>
    ({
      database: 'medic',
      source: 'h/medic',
      state: kind === 'live' ? { kind: 'live', since: '2026-07-01T10:00:00.000Z' } : { kind: 'idle' },
      seqShort: null,
      pending: 0,
      docsPerSecond: null,
      etaSeconds: null,
      lastRun: null,
      lastSuccessAt,
    }) as unknown as DatabaseStatus;

  it('no "No complete sync yet." while the statuses load, nor after a complete first sync', () => {
    assert.equal(currentAsOfText(null, t, 'en', { lastBuilt: undefined, isBuilding: false }), null);
    const synced = currentAsOfText([status('idle', '2026-07-01T10:00:00.000Z')], t, 'en', {
      lastBuilt: null,
      isBuilding: false,
    });
    assert.doesNotMatch(synced ?? '', /No complete sync yet/);
    assert.match(
      currentAsOfText([status('idle', null)], t, 'en', { lastBuilt: null, isBuilding: false }) ?? '',
      /No complete sync yet/,
    );
  });

  it('a manual schedule with the feeds followed live (the demo) does not say sync runs only when pressed', () => {
    assert.doesNotMatch(scheduleText({ kind: 'manual' }, [status('live', null)], t), /when you press/);
    assert.match(scheduleText({ kind: 'manual' }, [status('idle', null)], t), /when you press/);
  });
});
