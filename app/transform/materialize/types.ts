import type { Logger } from '../../core/logger';
import type { Relation } from '../context/relation';
import type { ColumnConstraint, ColumnProps, ConfigMap } from '../project/types';
import type { PgSession } from './pg-session';

export interface IndexConfig {
  columns: string[];
  unique: boolean;
  type: string | null;
}

export interface Hook {
  sql: string;
  transaction: boolean;
}

/** Everything a materialization strategy needs; strategies are TypeScript, not templates. */
export interface MaterializeInput {
  session: PgSession;
  model: string;
  file: string;
  config: ConfigMap;
  materialized: string;
  /** `"db"."schema"."name"` */
  target: Relation;
  /** What exists now under the target name (looked up before compiling). */
  existing: Relation | null;
  /** Compiled SQL (ephemeral CTEs injected). */
  sql: string;
  fullRefresh: boolean;
  columns: ColumnProps[];
  constraints: ColumnConstraint[];
  contractEnforced: boolean;
  /** The model file's text as written (to point SQL errors at the file's own lines). */
  rawSql?: string;
  /** The model's description (persist_docs). */
  description?: string;
  preHooks: Hook[];
  postHooks: Hook[];
  /** Renders a hook / constraint expression with the model's runtime context. */
  render: (template: string) => Promise<string>;
  logger: Logger;
  pgVersion: number;
  /** Seeds: the CSV text. */
  csv?: string;
}

export interface MaterializeOutput {
  rowsAffected: number | null;
  warnings: string[];
  /** Statements run, in order (for debugging and tests). */
  statements: string[];
}
