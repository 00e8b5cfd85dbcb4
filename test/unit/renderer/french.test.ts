import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChartEmptyReason } from '../../../app/contract/dto';
import { chartEmptyText, seriesLabel } from '../../../renderer/components/chart';
import { catalogue } from '../../../renderer/i18n/catalogue';
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

/** Chart "empty" reasons: the engine sends a code and values, the UI words them in its language. */
describe('why a chart is empty, in French', () => {
  const t = makeTranslate('fr');
  const en = makeTranslate('en');
  const cases: [ChartEmptyReason | undefined, string, string][] = [
    [
      { code: 'not-configured' },
      'Aucune base d’analyse n’est encore configurée : terminez d’abord la configuration.',
      'No analytics database is set up yet: finish the setup first.',
    ],
    [
      { code: 'no-table', table: 'data_record' },
      'La table data_record n’existe pas encore : sur le tableau de bord, cliquez sur « Lancer les transformations » pour construire les tables d’analyse.',
      'The table data_record does not exist yet: on the dashboard, press “Run transforms now” to build the analytics tables.',
    ],
    [
      { code: 'no-column', table: 'contact', column: 'contact_type' },
      'La table contact n’a pas de colonne contact_type : est-elle construite par un autre pipeline ?',
      'The table contact has no contact_type column: is it built by a different pipeline?',
    ],
    [{ code: 'no-rows', table: 'data_record' }, 'Pas encore de rapports.', 'No reports yet.'],
    [{ code: 'no-rows', table: 'contact' }, 'Pas encore de contacts.', 'No contacts yet.'],
    [
      { code: 'no-rows', table: 'other' },
      'La table other n’a pas encore de lignes.',
      'The table other has no rows yet.',
    ],
    [
      { code: 'no-sync-runs', days: 30 },
      'Aucune synchronisation n’a copié de documents au cours des 30 derniers jours.',
      'No sync run copied documents in the last 30 days.',
    ],
    [undefined, 'Pas encore de données pour ce graphique.', 'No data for this chart yet.'],
  ];
  it('every reason code has its sentence in both languages', () => {
    for (const [reason, french, english] of cases) {
      assert.equal(chartEmptyText(reason, t), french);
      assert.equal(chartEmptyText(reason, en), english);
    }
  });
  it('a code this version does not know still says the chart is empty', () => {
    assert.equal(chartEmptyText({ code: 'newer-reason' } as unknown as ChartEmptyReason, t), t('charts.empty'));
  });
});

/** The catalogue itself: the compiler checks fr has every key of en; this checks what it cannot. */
describe('the catalogue', () => {
  const placeholders = (text: string): string[] =>
    [...text.matchAll(/\{(\w+)(?::[^}]*)?\}/g)].map((m) => m[1]!).sort((a, b) => a.localeCompare(b));
  it('en and fr have the same keys', () => {
    assert.deepEqual(Object.keys(catalogue.fr).sort(), Object.keys(catalogue.en).sort());
  });
  it('each French sentence fills the same values as its English one, and none is left empty', () => {
    for (const key of Object.keys(catalogue.en) as (keyof typeof catalogue.en)[]) {
      assert.deepEqual(
        [...new Set(placeholders(catalogue.fr[key]))],
        [...new Set(placeholders(catalogue.en[key]))],
        key,
      );
      assert.ok(catalogue.fr[key].trim().length > 0, key);
    }
  });
});
