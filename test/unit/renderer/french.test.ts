import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seriesLabel } from '../../../renderer/components/chart';
import { makeTranslate } from '../../../renderer/i18n/use-t';
import { materializedLabel } from '../../../renderer/materialized';

/** Issue 11 #15: chart legends, "incremental" and the technical-details label in French. */
describe('French where the engine names things', () => {
  const t = makeTranslate('fr');
  it('chart legends the engine named are French; values from the data stay as they are', () => {
    assert.equal(
      seriesLabel({ name: 'medic (docs/s)', role: 'throughput', database: 'medic', points: [] }, t),
      'medic (documents par seconde)',
    );
    assert.equal(
      seriesLabel({ name: 'backlog cleared per run (documents)', role: 'backlog', points: [] }, t),
      'Retard rattrapé par exécution (documents)',
    );
    assert.equal(seriesLabel({ name: 'other', role: 'other', points: [] }, t), 'Autres');
    assert.equal(seriesLabel({ name: '(none)', role: 'none', points: [] }, t), '(sans valeur)');
    assert.equal(seriesLabel({ name: 'pregnancy_home_visit', points: [] }, t), 'pregnancy_home_visit');
  });
  it('materializations and the details label', () => {
    assert.equal(materializedLabel('incremental', t), 'incrémental');
    assert.equal(materializedLabel('view', t), 'vue');
    assert.equal(materializedLabel('my_custom', t), 'my_custom');
    assert.equal(t('error.detailsLanguage'), 'Détails techniques (en anglais)');
  });
});
