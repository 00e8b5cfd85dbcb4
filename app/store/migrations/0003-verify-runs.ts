import type { Migration } from './migration';

/**
 * Run history gains a third kind, `verify` (reconciliation: `cht-sync verify`, "Check for missing
 * or extra records"), whose per-database result is kept as JSON in `details_json`. SQLite cannot
 * change a CHECK constraint in place: the runs table is rebuilt, and its child tables with it (a
 * DROP of the parent would cascade into them), all in this migration's one transaction.
 */
export const migration0003: Migration = {
  version: 3,
  name: 'verify-runs',
  sql: `
    create temp table keep_run_databases as select * from run_databases;
    create temp table keep_run_skipped_docs as select * from run_skipped_docs;
    create temp table keep_run_models as select * from run_models;
    drop table run_databases;
    drop table run_skipped_docs;
    drop table run_models;

    create table runs_new (
      id integer primary key autoincrement,
      kind text not null check (kind in ('sync', 'transform', 'verify')),
      trigger text not null,
      outcome text not null,
      started_at text not null,
      finished_at text,
      count integer not null default 0,
      error_count integer not null default 0,
      summary text not null default '',
      project text,
      warnings_json text,
      error_json text,
      pid integer,
      details_json text
    );
    insert into runs_new (id, kind, trigger, outcome, started_at, finished_at, count, error_count, summary, project, warnings_json, error_json, pid)
      select id, kind, trigger, outcome, started_at, finished_at, count, error_count, summary, project, warnings_json, error_json, pid from runs;
    drop table runs;
    alter table runs_new rename to runs;
    create index runs_kind_id on runs (kind, id);
    create index runs_outcome_id on runs (outcome, id);
    create index runs_kind_finished_at on runs (kind, finished_at);

    create table run_databases (
      run_id integer not null references runs (id) on delete cascade,
      position integer not null,
      database text not null,
      source text not null,
      outcome text not null,
      docs integer not null,
      deletes integer not null,
      bytes integer not null,
      seconds real not null,
      seq_before text,
      seq_after text,
      reached_end integer not null,
      error_json text,
      primary key (run_id, position)
    );
    create table run_skipped_docs (
      run_id integer not null references runs (id) on delete cascade,
      database text not null,
      position integer not null,
      doc_id text not null,
      reason text not null,
      primary key (run_id, database, position)
    );
    create table run_models (
      run_id integer not null references runs (id) on delete cascade,
      position integer not null,
      unique_id text not null,
      model text not null,
      materialized text not null,
      status text not null,
      rows_affected integer,
      seconds real not null,
      refresh_reason text,
      skipped_because text,
      error_json text,
      primary key (run_id, position)
    );
    insert into run_databases select * from keep_run_databases;
    insert into run_skipped_docs select * from keep_run_skipped_docs;
    insert into run_models select * from keep_run_models;
    drop table keep_run_databases;
    drop table keep_run_skipped_docs;
    drop table keep_run_models;
  `,
};
