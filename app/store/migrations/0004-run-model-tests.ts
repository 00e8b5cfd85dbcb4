import type { Migration } from './migration';

/**
 * `cht-sync dbt test|build` runs seeds, snapshots and tests besides models: a run's node rows
 * keep what only those have (resource type; for a test its plain-words description, failure
 * count, dbt's message, up to 20 failing rows and the query that selects them) as JSON.
 */
export const migration0004: Migration = {
  version: 4,
  name: 'run-model-tests',
  sql: `alter table run_models add column test_json text;`,
};
