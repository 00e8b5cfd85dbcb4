import type { ColumnConstraint, ColumnProps, ConfigMap, UnitTestProps } from '../project/types';

/** dbt's resource types we run (sources are graph nodes that never run). */
export type ResourceType = 'model' | 'seed' | 'snapshot' | 'test' | 'unit_test' | 'source';

/** What a data test checks (generic: a `test_<name>` macro with arguments; singular: a SQL file). */
export interface TestInfo {
  kind: 'generic' | 'singular' | 'unit';
  /** `unique`, `not_null`, `expression_is_true` … (generic only). */
  testName: string | null;
  /** Macro namespace of a package test (`dbt_utils`), or null. */
  namespace: string | null;
  /** Arguments as written in YAML (strings may hold ref()/Jinja; rendered when the test runs). */
  kwargs: Record<string, unknown>;
  columnName: string | null;
  /** The node the test is attached to (model/seed/snapshot/source unique id), if any. */
  attachedNode: string | null;
  /** For `model`: a ref(…) or source(…) expression that names the tested relation. */
  modelExpr: string | null;
}

/** A node after parsing (a model, seed, snapshot, test or source): what it depends on and how it is configured. */
export interface ModelNode {
  /** Absent means 'model' (the daemon's path only ever builds models). */
  resourceType?: ResourceType;
  test?: TestInfo;
  /** For sources: `source.table` as ref'd by source(). */
  sourceKey?: string;
  /** For seeds: the CSV text. */
  csv?: string;
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
  /** The model's description from its YAML properties (persist_docs). */
  description?: string;
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
