import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SyncRunResult } from '../../../app/contract/dto';
import type { WireError } from '../../../app/contract/errors';
import { describeSyncResult } from '../../../renderer/describe-outcome';
import { explainError } from '../../../renderer/error-help';
import { en } from '../../../renderer/i18n/en';
import { fr } from '../../../renderer/i18n/fr';
import { makeTranslate } from '../../../renderer/i18n/use-t';

/** Issue 11 #10, #11, #15: one rule turns an error into a headline, a fix and a next step on this screen. */
const t = makeTranslate('en');
const tFr = makeTranslate('fr');
const wire = (
  code: WireError['code'],
  message: string,
  details?: Record<string, unknown>,
  retryable = false,
): WireError => ({ code, message, retryable, ...(details ? { details } : {}) });

describe('error-help: the one rule for errors in the UI', () => {
  it('#10 the headline names the real cause: https vs http, no scheme, a dropped link, a PostgreSQL port that never answered', () => {
    const httpsOnHttp = explainError(
      wire('COUCH_PROTOCOL', 'x speaks plain HTTP, not HTTPS. Use http://x (COUCHDB_SECURE=false)', {
        expected: 'http',
      }),
      t,
      { place: 'wizard-couch', couchUrl: 'https://127.0.0.1:5984' },
    );
    assert.match(httpsOnHttp.headline, /speaks http:\/\/, not https:\/\//);
    assert.doesNotMatch(httpsOnHttp.headline, /not a CHT/);
    assert.match(httpsOnHttp.fixes[0]!, /from https:\/\/ to http:\/\//);
    const httpOnHttps = explainError(wire('COUCH_PROTOCOL', '… is an HTTPS port', { expected: 'https' }), t, {
      place: 'wizard-couch',
      couchUrl: 'http://cht.example.org:443',
    });
    assert.match(httpOnHttps.headline, /needs https:\/\//);
    const noScheme = explainError(wire('COUCH_PROTOCOL', 'answers, but not as CouchDB'), t, {
      place: 'wizard-couch',
      couchUrl: 'cht.example.org',
    });
    assert.match(noScheme.headline, /needs https:\/\/ in front/);
    const dropped = explainError(
      wire(
        'COUCH_UNREACHABLE',
        'x closed the connection in the middle of a response (ECONNRESET).',
        { database: 'medic' },
        true,
      ),
      t,
      { place: 'dashboard', couchUrl: 'https://cht.example.org' },
    );
    assert.match(dropped.headline, /dropped/);
    assert.doesNotMatch([dropped.headline, ...dropped.fixes].join(' '), /spelling/i);
    const wizard = explainError(wire('CONFIG_INVALID', '--couch-url must be a URL'), t, { place: 'wizard-couch' });
    assert.doesNotMatch(`${wizard.headline} ${wizard.fixes.join(' ')} ${wizard.next}`, /Check Settings|“Settings”/);
    assert.match(wizard.next ?? '', /“Test connection”/);
    const pgNever = explainError(
      wire(
        'PG_UNREACHABLE',
        'PostgreSQL connection lost while connecting (connect ECONNREFUSED 127.0.0.1:5433). It will be retried',
        { code: 'ECONNREFUSED' },
        true,
      ),
      t,
      { place: 'wizard-postgres' },
    );
    assert.match(pgNever.headline, /No PostgreSQL server answers/);
    assert.doesNotMatch(`${pgNever.headline} ${pgNever.fixes.join(' ')}`, /lost|retried/);
    assert.match(pgNever.next ?? '', /“Test database connection”/);
    // The technical detail is kept, not leading.
    assert.match(pgNever.detail, /ECONNREFUSED/);
  });

  it('#11 the next step can work: no "Sync now again" for a misspelled database; a retry only for what passes', () => {
    const missing = wire('COUCH_DB_MISSING', "The database 'medic_sentinel' does not exist", {
      database: 'medic_sentinel',
      suggestion: 'medic-sentinel',
    });
    const onDashboard = explainError(missing, t, { place: 'dashboard' });
    assert.doesNotMatch(onDashboard.next ?? '', /Sync now/);
    assert.match(onDashboard.next ?? '', /“Settings”/);
    assert.match(onDashboard.fixes[0]!, /medic-sentinel/);
    const result: SyncRunResult = {
      runId: 4,
      outcome: 'partial',
      startedAt: '2026-07-01T10:00:00.000Z',
      finishedAt: '2026-07-01T10:00:05.000Z',
      databases: [
        {
          database: 'medic',
          outcome: 'done',
          docs: 10,
          deletes: 0,
          bytes: 100,
          seconds: 1,
          reachedEnd: true,
          skipped: [],
          error: null,
        },
        {
          database: 'medic_sentinel',
          outcome: 'failed',
          docs: 0,
          deletes: 0,
          bytes: 0,
          seconds: 0,
          reachedEnd: false,
          skipped: [],
          error: missing,
        },
      ],
    } as unknown as SyncRunResult;
    const view = describeSyncResult(result, t, 'en');
    assert.doesNotMatch(view.next ?? '', /Sync now/);
    assert.match(view.next ?? '', /Settings/);
    const timeout = explainError(wire('COUCH_TIMEOUT', 'slow', undefined, true), t, { place: 'dashboard' });
    assert.match(timeout.next ?? '', /Sync now/);
  });

  it('#11 no fix, headline or next step speaks in environment variables, command-line flags or SQL', () => {
    for (const [lang, catalogue] of [
      ['en', en],
      ['fr', fr],
    ] as const) {
      for (const [key, text] of Object.entries(catalogue)) {
        if (!/^(head|fix|next|syncResult|error)\./.test(key)) continue;
        assert.doesNotMatch(
          text,
          /\b[A-Z]{2,}_[A-Z_]{2,}\b|(^|\s)--[a-z]|\b(GRANT|CREATE|SELECT|ALTER)\b/,
          `${lang} ${key}: ${text}`,
        );
      }
    }
  });

  it('#15 in French, the headline, the fix and the per-database lines are French; the English detail is only the detail', () => {
    const help = explainError(
      wire('COUCH_DB_MISSING', "The database 'medic_sentinel' does not exist", { database: 'medic_sentinel' }),
      tFr,
      { place: 'dashboard' },
    );
    assert.match(help.headline, /n’existe pas/);
    assert.match(help.next ?? '', /Paramètres/);
    const result = {
      runId: 5,
      outcome: 'partial',
      startedAt: '2026-07-01T10:00:00.000Z',
      finishedAt: '2026-07-01T10:00:05.000Z',
      databases: [
        {
          database: 'medic',
          outcome: 'offline',
          docs: 0,
          deletes: 0,
          bytes: 0,
          seconds: 0,
          reachedEnd: false,
          skipped: [],
          error: wire('COUCH_UNREACHABLE', 'closed the connection (ECONNRESET)', { code: 'ECONNRESET' }, true),
        },
      ],
    } as unknown as SyncRunResult;
    const lines = describeSyncResult(result, tFr, 'fr').lines.join('\n');
    assert.match(lines, /medic: .*connexion au serveur CHT a été coupée/);
    assert.doesNotMatch(lines, /closed the connection/);
  });
});
