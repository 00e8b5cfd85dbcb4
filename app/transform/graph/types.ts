import type { ColumnConstraint, ColumnProps, ConfigMap, UnitTestProps } from '../project/types';

/** A model after parsing: what it depends on and how it is configured. */
export interface ModelNode {
  /** dbt's unique id: `model.<package>.<name>`. */
  uniqueId: string;
  name: string;
  packageName: string;
  /** Path relative to its package root (for messages), e.g. models/root/document_metadata.sql. */
  file: string;
  absPath: string;
  /** Folder path relative to the model path, for `path:` selection and dbt_project.yml configs. */
  fqn: string[];
  rawSql: string;
  config: ConfigMap;
  materialized: string;
  tags: string[];
  refs: { packageName: string | null; name: string }[];
  sources: { source: string; table: string }[];
  /** Resolved parents (unique ids), filled by the graph. */
  dependsOn: string[];
  columns: ColumnProps[];
  constraints: ColumnConstraint[];
  contractEnforced: boolean;
  unitTests: UnitTestProps[];
  /** SQL rendered by the recording context: stable, no database values. */
  parsedSql: string;
  /** `package.macro\0text` of the macros the model uses (recorded while parsing). */
  macroSources: string[];
  parseError: Error | null;
  /** Fingerprint of raw SQL + macros used + config + contract + parents'. */
  fingerprint: string;
}
