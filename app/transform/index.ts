/** The transform engine: run a dbt project on PostgreSQL with dbt-postgres semantics. */
export {
  runTransform,
  bundledPipelinePath,
  COALESCED_WARNING,
  type TransformOptions,
  type TransformOutcome,
} from './run-transform';
export { loadProject, type ProjectSource } from './project/load-project';
export { transformTypes } from './materialize/pg-session';
