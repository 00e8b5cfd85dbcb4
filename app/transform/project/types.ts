/** The loaded shape of a dbt project and its packages: plain data, no templates rendered yet. */

export type ConfigValue = unknown;
export type ConfigMap = Record<string, ConfigValue>;

export interface ProjectFile {
  name: string;
  version: string | null;
  modelPaths: string[];
  macroPaths: string[];
  testPaths: string[];
  seedPaths: string[];
  snapshotPaths: string[];
  vars: Record<string, unknown>;
  /** The `models:` block as written (nested by package then folder, `+` keys are configs). */
  models: ConfigMap;
  /** The `seeds:`, `snapshots:` and `data_tests:` (or `tests:`) blocks, shaped like `models:`. */
  seeds: ConfigMap;
  snapshots: ConfigMap;
  dataTests: ConfigMap;
  onRunStart: string[];
  onRunEnd: string[];
  /** `dispatch: [{macro_namespace, search_order}]` */
  dispatch: { macroNamespace: string; searchOrder: string[] }[];
  /** `quoting:` of dbt_project.yml (the root project's applies to every model's relation). */
  quoting?: { database?: boolean; schema?: boolean; identifier?: boolean };
}

export interface SourceFile {
  /** Path relative to the package root, with forward slashes. */
  path: string;
  absPath: string;
  text: string;
}

export interface ColumnConstraint {
  type: string;
  expression?: string;
  name?: string;
  columns?: string[];
  warnUnenforced?: boolean;
}

export interface ColumnProps {
  name: string;
  dataType: string | null;
  description: string;
  constraints: ColumnConstraint[];
  tests: unknown[];
  quote: boolean;
}

export interface ModelProps {
  name: string;
  file: string;
  description?: string;
  config: ConfigMap;
  columns: ColumnProps[];
  constraints: ColumnConstraint[];
  tests: unknown[];
}

export interface SourceTableProps {
  /** Source table name as written (may contain Jinja, rendered later). */
  name: string;
  identifier: string | null;
  config: ConfigMap;
  columns: ColumnProps[];
  /** Table-level data tests. */
  tests: unknown[];
}

export interface SourceProps {
  name: string;
  database: string | null;
  schema: string | null;
  tables: SourceTableProps[];
  file: string;
  config: ConfigMap;
}

export interface UnitTestProps {
  name: string;
  model: string;
  given: unknown[];
  expect: unknown;
  overrides: unknown;
  file: string;
}

export interface SelectorDef {
  name: string;
  description: string;
  definition: unknown;
  isDefault: boolean;
}

export interface DbtPackage {
  name: string;
  root: string;
  isRoot: boolean;
  project: ProjectFile;
  models: SourceFile[];
  macros: SourceFile[];
  /** Singular tests (SQL) under test-paths. */
  tests: SourceFile[];
  /** Seeds (CSV under seed-paths) and snapshot files (SQL under snapshot-paths). */
  seeds: SourceFile[];
  snapshots: SourceFile[];
  modelProps: ModelProps[];
  seedProps: ModelProps[];
  snapshotProps: ModelProps[];
  sources: SourceProps[];
  unitTests: UnitTestProps[];
  /** Packages this one declared in packages.yml / dependencies.yml. */
  dependencies: string[];
}

export interface MissingPackage {
  /** The macro namespace the package would have provided (e.g. dbt_utils). */
  namespace: string;
  spec: string;
  reason: string;
}

export interface LoadedProject {
  root: DbtPackage;
  /** Every package including the root, root first, then the others by name. */
  packages: DbtPackage[];
  missing: MissingPackage[];
  selectors: SelectorDef[];
  warnings: string[];
}
