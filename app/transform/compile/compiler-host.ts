/**
 * What the resource builders (resource-nodes.ts) need from the project compiler, in a file of its
 * own so that project-compiler.ts and resource-nodes.ts do not import each other.
 */
import type { Logger } from '../../core/logger';
import type { TimeSlicer } from '../../core/time-slicer';
import type { ContextInput, TargetInfo } from '../context/dbt-context';
import type { Relation } from '../context/relation';
import type { ModelNode } from '../graph/types';
import type { ConfigMap, LoadedProject } from '../project/types';

export interface CompilerOptions {
  project: LoadedProject;
  target: TargetInfo;
  env: Record<string, string>;
  cliVars: Record<string, unknown>;
  invocationId: string;
  runStartedAt: string;
  fullRefresh: boolean;
  logger: Logger;
  /** Yields to the event loop between files, models and tests (one per run; default: a new one). */
  slicer?: TimeSlicer;
}

export interface SourceEntry {
  packageName: string;
  source: string;
  table: string;
  /** The table name as written (before rendering). */
  rawName: string;
  file: string;
  config: ConfigMap;
  relation: Relation;
}

/** The part of ProjectCompiler that builds sources, seeds, snapshots and tests relies on. */
export interface CompilerHost {
  readonly o: CompilerOptions;
  readonly warnings: string[];
  /** Parse-stage work ticks it between nodes (core/time-slicer.ts). */
  readonly slicer: TimeSlicer;
  relationFor(
    node: Pick<ModelNode, 'name' | 'config' | 'materialized'> & {
      uniqueId?: string;
      resourceType?: ModelNode['resourceType'];
    },
  ): Relation;
  baseContext(partial: Partial<ContextInput> & Pick<ContextInput, 'mode' | 'packageName'>): ContextInput;
  context(input: ContextInput): Record<string, unknown>;
  renderFile(
    node: Pick<ModelNode, 'rawSql' | 'packageName' | 'file' | 'name'>,
    ctx: Record<string, unknown>,
  ): Promise<string>;
  sourceEntries(): readonly SourceEntry[];
}
