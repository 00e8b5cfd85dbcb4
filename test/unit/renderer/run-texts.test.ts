/**
 * The run history in French: our words around model and test outcomes come from the catalogue,
 * PostgreSQL's message stays as PostgreSQL wrote it. The engine's sentences are made here by the
 * engine's own functions (app/transform), so a change of their wording fails this test instead of
 * leaking English into the UI.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WireError } from '../../../app/contract/errors';
import { toWireError } from '../../../app/core/engine-error';
import type { ModelGraph } from '../../../app/transform/graph/build-graph';
import type { ModelNode, TestInfo } from '../../../app/transform/graph/types';
import { queryError } from '../../../app/transform/materialize/pg-session';
import { describeTest } from '../../../app/transform/run/describe';
import { COALESCED_WARNING } from '../../../app/transform/run-transform';
import { describeTransformResult } from '../../../renderer/describe-outcome';
import { explainError } from '../../../renderer/error-help';
import { makeTranslate } from '../../../renderer/i18n/use-t';
import {
  describeModelError,
  modelErrorLine,
  refreshReasonText,
  skipReasonText,
  testDescription,
  testRule,
  transformWarningText,
} from '../../../renderer/run-texts';

const fr = makeTranslate('fr');
const en = makeTranslate('en');

/** What PostgreSQL (node-postgres) throws for a missing relation. */
function pgError(message: string, extra: { detail?: string; hint?: string } = {}): Error {
  return Object.assign(new Error(message), { code: '42P01', position: '15', ...extra });
}

function modelFailure(): WireError {
  return toWireError(
    queryError(pgError('relation "raw.couchdb" does not exist', { hint: 'Check the schema name.' }), {
      model: 'data_record',
      file: 'pipeline/models/data_record.sql',
      sql: 'select * from raw.couchdb',
    }),
  );
}

/** No word of the engine's English framing may reach the French line. */
const ENGLISH_FRAMING = /\b(failed|Model|skipped because|failing rows|Hint)\b/;

describe('model errors in the run history', () => {
  it('a model PostgreSQL refused: our sentence in French, PostgreSQL’s message and hint as written', () => {
    const wire = modelFailure();
    assert.match(wire.message, /failed in PostgreSQL/, 'the engine frames it in English (the API keeps that)');
    const v = describeModelError(wire, fr);
    assert.equal(v.line, 'PostgreSQL a refusé le SQL de ce modèle.');
    assert.equal(v.postgres, 'relation "raw.couchdb" does not exist');
    assert.equal(v.hint, 'Check the schema name.');
    assert.equal(v.detail, null);
    assert.doesNotMatch(`${v.line} ${v.postgres}`, ENGLISH_FRAMING);
    assert.equal(describeModelError(wire, en).line, 'PostgreSQL refused this model’s SQL.');
  });

  it('a PostgreSQL detail stays with its message; no hint, no hint line', () => {
    const wire = toWireError(
      queryError(
        pgError('duplicate key value violates unique constraint "u"', { detail: 'Key (id)=(1) already exists.' }),
        {
          model: 'm',
          file: 'models/m.sql',
          sql: 'insert into t values (1)',
        },
      ),
    );
    const v = describeModelError(wire, fr);
    assert.equal(v.postgres, 'duplicate key value violates unique constraint "u" (Key (id)=(1) already exists.)');
    assert.equal(v.hint, null);
  });

  it('a test whose query failed, a snapshot, a hook, an unreachable server', () => {
    const test = { ...modelFailure(), message: modelFailure().message.replace(/^Model /, 'Test ') };
    assert.equal(describeModelError(test, fr).line, 'PostgreSQL a refusé la requête de ce test.');
    const snapshot = { ...modelFailure(), message: 'Snapshot snap (snapshots/s.sql) failed in PostgreSQL: boom' };
    assert.equal(describeModelError(snapshot, fr).postgres, 'boom');
    const hook = {
      code: 'MODEL_RUN' as const,
      message: 'The pipeline-on-run-end-0 hook failed: permission denied for schema x',
      retryable: false,
    };
    assert.deepEqual(describeModelError(hook, fr), {
      line: 'Ce hook du projet a échoué.',
      postgres: 'permission denied for schema x',
      hint: null,
      detail: null,
    });
    const down = {
      code: 'PG_UNREACHABLE' as const,
      message: 'PostgreSQL could not be reached to run the models: connect ECONNREFUSED 127.0.0.1:5432',
      retryable: true,
    };
    assert.equal(
      modelErrorLine(down, fr),
      'PostgreSQL n’a pas pu être joint pour exécuter les modèles. connect ECONNREFUSED 127.0.0.1:5432',
    );
  });

  it('an engine message with no PostgreSQL words: a catalogue line, the English folded as detail', () => {
    const wire = {
      code: 'TEMPLATE_SYNTAX' as const,
      message: "Unexpected end of template in models/x.sql: expected 'endif'",
      retryable: false,
    };
    const v = describeModelError(wire, fr);
    assert.equal(v.line, 'Le modèle (template) contient une erreur de syntaxe.');
    assert.equal(v.postgres, null);
    assert.equal(v.detail, wire.message);
    assert.equal(describeModelError({ ...wire, code: 'MODEL_RUN' }, fr).line, 'Cette étape a échoué.');
  });

  it('a run stopped by a model: the headline says a model failed, the next step points at the Models table', () => {
    const help = explainError(modelFailure(), fr, { place: 'history' });
    assert.equal(help.headline, 'Un modèle de transformation a échoué');
    assert.equal(
      help.next,
      'Le tableau « Modèles » ci-dessous donne le résultat de chaque modèle, son fichier et la raison.',
    );
    assert.doesNotMatch(`${help.headline} ${help.fixes.join(' ')}`, /chargé|Paramètres/);
    assert.equal(explainError(modelFailure(), en, { place: 'history' }).headline, 'A transform model failed');
  });

  it('the outcome notice after transforms names the model, our words, then PostgreSQL’s', () => {
    const view = describeTransformResult(
      {
        runId: 3,
        outcome: 'partial',
        startedAt: '2026-12-06T08:00:00Z',
        finishedAt: '2026-12-06T08:00:05Z',
        project: 'p',
        warnings: [],
        models: [
          { model: 'ok', uniqueId: 'p.ok', materialized: 'table', status: 'success', rowsAffected: 1, seconds: 1 },
          {
            model: 'data_record',
            uniqueId: 'p.data_record',
            materialized: 'table',
            status: 'error',
            rowsAffected: null,
            seconds: 1,
            error: modelFailure(),
          },
        ],
      },
      fr,
      'fr',
    );
    assert.equal(
      view.lines[1],
      'data_record: PostgreSQL a refusé le SQL de ce modèle. relation "raw.couchdb" does not exist',
    );
    assert.doesNotMatch(view.lines.join('\n'), ENGLISH_FRAMING);
  });
});

describe('tests in the run history', () => {
  const model = { uniqueId: 'model.p.orders', name: 'orders', file: 'models/orders.sql' } as unknown as ModelNode;
  const source = {
    uniqueId: 'source.p.cht.medic',
    name: 'medic',
    resourceType: 'source',
    sourceKey: 'cht.medic',
  } as unknown as ModelNode;
  const graph = {
    nodes: new Map([
      [model.uniqueId, model],
      [source.uniqueId, source],
    ]),
  } as unknown as ModelGraph;
  const testNode = (test: Partial<TestInfo>, extra: Partial<ModelNode> = {}): ModelNode =>
    ({
      uniqueId: 'test.p.t',
      name: 't',
      file: 'tests/t.sql',
      resourceType: 'test',
      ...extra,
      test: {
        kind: 'generic',
        testName: null,
        namespace: null,
        kwargs: {},
        columnName: null,
        attachedNode: model.uniqueId,
        modelExpr: null,
        ...test,
      },
    }) as unknown as ModelNode;
  const cases: [ModelNode, string][] = [
    [testNode({ testName: 'not_null', columnName: 'id' }), 'Vérifie que orders.id n’est jamais vide.'],
    [testNode({ testName: 'unique', columnName: 'id' }), 'Vérifie que orders.id n’a pas de doublons.'],
    [
      testNode({ testName: 'accepted_values', columnName: 'status', kwargs: { values: ['open', 'closed'] } }),
      'Vérifie que orders.status prend l’une des valeurs open, closed.',
    ],
    [
      testNode({ testName: 'relationships', columnName: 'customer', kwargs: { to: "ref('customers')", field: 'id' } }),
      'Vérifie que chaque orders.customer existe dans customers.id.',
    ],
    [
      testNode({ testName: 'expression_is_true', namespace: 'dbt_utils' }),
      'Exécute le test dbt_utils.expression_is_true sur orders.',
    ],
    [
      testNode({ testName: 'not_null', columnName: '_id', attachedNode: source.uniqueId }),
      'Vérifie que source cht.medic._id n’est jamais vide.',
    ],
    [testNode({ kind: 'singular', attachedNode: null }), 'Vérifie que tests/t.sql ne renvoie aucune ligne.'],
    [testNode({ kind: 'unit' }), 'Vérifie que le SQL de orders donne les lignes attendues pour les entrées fournies.'],
  ];
  it('what each test checks, from the engine’s own description, in French', () => {
    for (const [node, french] of cases) {
      const description = describeTest(node, graph);
      assert.equal(testDescription(description, fr), french, description);
    }
    assert.equal(
      testDescription(describeTest(testNode({ testName: 'unique', columnName: 'id' }), graph), en),
      'Checks that orders.id has no duplicates.',
    );
  });

  it('the test rule, the failing-row count with its plural, statuses', () => {
    assert.equal(
      testRule({ status: 'fail', message: 'Got 3 results, configured to fail if != 0' }, fr),
      'Le test échoue quand le nombre de lignes en échec est != 0.',
    );
    assert.equal(
      testRule({ status: 'warn', message: 'Got 1 result, configured to warn if >10' }, en),
      'The test warns when the number of failing rows is >10.',
    );
    assert.equal(testRule({ status: 'pass' }, fr), null);
    assert.equal(fr('detail.testFailures', { count: '1' }), '1 ligne en échec.');
    assert.equal(fr('detail.testFailures', { count: '3' }), '3 lignes en échec.');
    assert.equal(en('detail.testFailures', { count: '1' }), '1 failing row.');
    assert.equal(fr('detail.skippedBecause', { model: 'stg_orders' }), 'Ignoré car stg_orders a échoué.');
    assert.equal(fr('model.fail'), 'Test échoué');
    assert.equal(fr('model.pass'), 'Réussi');
  });
});

describe('rebuilds, warnings and skipped documents', () => {
  it('why a model was rebuilt and the run’s own warnings, in French', () => {
    assert.equal(
      fr('detail.refreshed', { reason: refreshReasonText('its parent stg_contacts changed since the last build', fr) }),
      'Reconstruit entièrement : le modèle dont il est construit, stg_contacts, a changé depuis la dernière construction.',
    );
    assert.equal(
      transformWarningText(
        'Model contact will be fully refreshed: its SQL or configuration changed since its last build.',
        fr,
      ).text,
      'Le modèle contact a été reconstruit entièrement : son SQL ou sa configuration a changé depuis la dernière construction.',
    );
    assert.deepEqual(transformWarningText(COALESCED_WARNING, fr).asWritten, false);
    assert.match(transformWarningText(COALESCED_WARNING, fr).text, /^Rien n’a été exécuté/);
    const projects = transformWarningText('my_project: a custom warning', fr);
    assert.deepEqual(projects, { text: 'my_project: a custom warning', asWritten: true });
  });

  it('why a document was skipped: our words, the parser’s message kept', () => {
    assert.equal(
      skipReasonText('the document is not valid JSON: Unexpected token } in JSON at position 12', fr),
      'Le document n’est pas un JSON valide (Unexpected token } in JSON at position 12).',
    );
    assert.equal(
      skipReasonText('the changes feed sent no document body (include_docs) for a live document', fr),
      'Le flux de modifications du serveur n’a envoyé aucun contenu pour un document qui existe.',
    );
  });
});
