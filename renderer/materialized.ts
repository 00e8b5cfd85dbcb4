import type { MessageKey } from './i18n/catalogue';
import type { Translate } from './i18n/use-t';

const MATERIALIZED: Record<string, MessageKey> = {
  table: 'materialized.table',
  view: 'materialized.view',
  incremental: 'materialized.incremental',
  ephemeral: 'materialized.ephemeral',
  materialized_view: 'materialized.materialized_view',
  seed: 'materialized.seed',
  snapshot: 'materialized.snapshot',
  test: 'materialized.test',
};

/** dbt's materialization names in the UI's language (a custom one is shown as the project names it). */
export function materializedLabel(kind: string, t: Translate): string {
  const key = MATERIALIZED[kind];
  return key ? t(key) : kind;
}
