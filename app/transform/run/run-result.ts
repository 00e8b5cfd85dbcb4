import { callable } from '../jinja/values';
import type { ModelNode } from '../graph/types';
import type { Relation } from '../context/relation';

/**
 * The `results` list on-run-end hooks see: dbt's RunResult, with `to_dict()` giving the
 * shape CHT Pipeline's log_dbt_results reads (node, status, timing, adapter_response, …).
 */
export interface RunResultInput {
  node: ModelNode;
  relation: Relation;
  status: string;
  message: string | null;
  rowsAffected: number | null;
  /** Tests: failing rows counted (dbt's `failures`). */
  failures?: number | null;
  compileStarted: string | null;
  compileDone: string | null;
  executeStarted: string | null;
  executeDone: string | null;
  seconds: number;
  threadId: string;
}

function iso(t: string): string {
  // dbt prints timing with microseconds and a Z.
  return t.replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function toRunResult(r: RunResultInput): Record<string, unknown> {
  const node = {
    name: r.node.name,
    unique_id: r.node.uniqueId,
    resource_type: r.node.resourceType ?? 'model',
    package_name: r.node.packageName,
    database: r.relation.database,
    schema: r.relation.schema,
    alias: r.relation.identifier,
    identifier: r.relation.identifier,
    path: r.node.file,
    original_file_path: r.node.file,
    fqn: [r.node.packageName, ...r.node.fqn],
    tags: r.node.tags,
    config: r.node.config,
    relation_name: r.relation.render(),
  };
  const timing = [
    ...(r.compileStarted && r.compileDone
      ? [{ name: 'compile', started_at: iso(r.compileStarted), completed_at: iso(r.compileDone) }]
      : []),
    ...(r.executeStarted && r.executeDone
      ? [{ name: 'execute', started_at: iso(r.executeStarted), completed_at: iso(r.executeDone) }]
      : []),
  ];
  const adapterResponse =
    r.status === 'success' && (r.node.resourceType ?? 'model') !== 'test'
      ? { _message: `INSERT 0 ${r.rowsAffected ?? 0}`, code: 'INSERT', rows_affected: r.rowsAffected ?? 0 }
      : {};
  const dict = {
    status: r.status,
    timing,
    thread_id: r.threadId,
    execution_time: r.seconds,
    adapter_response: adapterResponse,
    message: r.message,
    failures: r.failures ?? null,
    unique_id: r.node.uniqueId,
    node,
  };
  return { ...dict, to_dict: callable(() => structuredClone(dict)) };
}
