import type { Migration } from './migration';

/** The first schema: settings, checkpoints, run history, model fingerprints. */
export const migration0001: Migration = {
  version: 1,
  name: 'initial',
  sql: `
    create table settings (
      id integer primary key check (id = 1),
      json text not null,
      updated_at text not null
    );

    create table checkpoints (
      source text primary key,
      seq text not null,
      pending integer,
      updated_at text not null
    );

    create table runs (
      id integer primary key autoincrement,
      kind text not null check (kind in ('sync', 'transform')),
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
      -- the process that owns a 'running' row: the CLI and the desktop app share this file,
      -- so a start-up must only close runs whose process is gone
      pid integer
    );
    create index runs_kind_id on runs (kind, id);
    create index runs_outcome_id on runs (outcome, id);
    create index runs_finished_at on runs (finished_at);

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

    create table model_fingerprints (
      project_key text not null,
      unique_id text not null,
      fingerprint text not null,
      primary key (project_key, unique_id)
    );
  `,
};
