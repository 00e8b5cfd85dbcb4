import path from 'node:path';
import type { ConfigMap, DbtPackage } from '../project/types';

/** Config keys that may appear in dbt_project.yml without a `+` prefix. */
const KNOWN = new Set([
  'materialized',
  'enabled',
  'tags',
  'schema',
  'alias',
  'database',
  'pre_hook',
  'post_hook',
  'unique_key',
  'on_schema_change',
  'incremental_strategy',
  'indexes',
  'contract',
  'persist_docs',
  'full_refresh',
  'meta',
  'docs',
  'grants',
  'unlogged',
  'quoting',
  'column_types',
  'sql_header',
  'transient',
  'bind',
  'on_configuration_change',
  'group',
  'access',
  'event_time',
  'quote_columns',
  'delimiter',
  'severity',
  'warn_if',
  'error_if',
  'fail_calc',
  'store_failures',
  'store_failures_as',
  'where',
  'limit',
  'strategy',
  'updated_at',
  'check_cols',
  'target_schema',
  'target_database',
  'invalidate_hard_deletes',
  'hard_deletes',
  'snapshot_meta_column_names',
  'dbt_valid_to_current',
]);

const DICT_CONFIGS = new Set(['contract', 'persist_docs', 'grants', 'quoting', 'column_types']);

const normKey = (k: string): string => k.replace(/^\+/, '').replace(/-/g, '_');

/** Merge configs as dbt does: tags and hooks accumulate, meta merges, the rest overrides. */
export function mergeConfig(base: ConfigMap, over: ConfigMap): ConfigMap {
  const out: ConfigMap = { ...base };
  for (const [rawKey, value] of Object.entries(over)) {
    const key = normKey(rawKey);
    if (value === undefined) continue;
    if (key === 'tags') {
      const list = [...toList(out.tags), ...toList(value)].map(String);
      out.tags = [...new Set(list)];
    } else if (key === 'pre_hook' || key === 'post_hook') {
      out[key] = [...toList(out[key]), ...toList(value)];
    } else if (key === 'meta' && value && typeof value === 'object') {
      out.meta = { ...(out.meta as object | undefined), ...(value as object) };
    } else out[key] = value;
  }
  return out;
}

function toList(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

/** Configs from a `models:` block for a model at `[package, ...folders]`. */
function fromBlock(block: ConfigMap, pathParts: string[]): ConfigMap {
  let out: ConfigMap = {};
  let level: unknown = block;
  for (let depth = 0; depth <= pathParts.length; depth++) {
    if (!level || typeof level !== 'object' || Array.isArray(level)) break;
    const here: ConfigMap = {};
    for (const [k, v] of Object.entries(level as ConfigMap)) {
      const key = normKey(k);
      const isDict = Boolean(v) && typeof v === 'object' && !Array.isArray(v);
      // Without `+`, a known config name is a config unless it holds a dict (then it is a
      // folder, e.g. models/meta/), except configs whose value is a dict by nature.
      if (k.startsWith('+') || (KNOWN.has(key) && (!isDict || DICT_CONFIGS.has(key)))) here[key] = v;
    }
    out = mergeConfig(out, here);
    if (depth === pathParts.length) break;
    level = (level as ConfigMap)[pathParts[depth]!];
  }
  return out;
}

/**
 * A model's config from dbt_project.yml: its own package's `models:` block, then the root
 * project's block for that package (the root wins).
 */
export function projectConfigFor(
  pkg: DbtPackage,
  root: DbtPackage,
  folderParts: string[],
  modelName: string,
  block: 'models' | 'seeds' | 'snapshots' | 'dataTests' = 'models',
): ConfigMap {
  const parts = [pkg.name, ...folderParts, modelName];
  let cfg = fromBlock(pkg.project[block], parts);
  if (!pkg.isRoot) cfg = mergeConfig(cfg, fromBlock(root.project[block], parts));
  return cfg;
}

/** Folder parts of a model file relative to the model path that contains it. */
export function modelFolders(pkg: DbtPackage, relFile: string): string[] {
  return nodeFolders(pkg, relFile, pkg.project.modelPaths);
}

/** Folder parts of a file relative to whichever of `paths` contains it (seed-paths, test-paths …). */
export function nodeFolders(_pkg: DbtPackage, relFile: string, paths: string[]): string[] {
  const modelPath = paths.map((p) => p.replace(/\/+$/, '')).find((p) => relFile.startsWith(`${p}/`));
  const inner = modelPath ? relFile.slice(modelPath.length + 1) : relFile;
  const dir = path.posix.dirname(inner);
  return dir === '.' ? [] : dir.split('/');
}
