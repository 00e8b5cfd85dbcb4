import type { Migration } from './migration';

/** The throughput chart reads finished sync runs since a time: index (kind, finished_at). */
export const migration0002: Migration = {
  version: 2,
  name: 'runs-by-finish-time',
  sql: `
    create index runs_kind_finished_at on runs (kind, finished_at);
    drop index runs_finished_at;
  `,
};
