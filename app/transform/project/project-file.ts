import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { EngineError } from '../../core/engine-error';
import type { ProjectFile } from './types';

function strings(value: unknown, fallback: string[]): string[] {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return fallback;
}

function record(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** `quoting:` — which parts of a model's relation name are quoted (dbt-postgres: all, by default). */
function quoting(value: unknown): { database?: boolean; schema?: boolean; identifier?: boolean } {
  const q = record(value);
  const out: { database?: boolean; schema?: boolean; identifier?: boolean } = {};
  for (const k of ['database', 'schema', 'identifier'] as const) if (typeof q[k] === 'boolean') out[k] = q[k];
  return out;
}

/**
 * Parsed YAML documents by text, for the life of the process: a daemon re-reads its project for
 * every run, and parsing its properties files is most of loading it. Each read gets its own copy
 * (callers may change what they get). Most recently used last; bounded by the text held.
 */
const YAML_CACHE_MAX_CHARS = 2 * 1024 * 1024;
const yamlDocs = new Map<string, unknown>();
let yamlChars = 0;

function parseYamlText(text: string): unknown {
  if (yamlDocs.has(text)) {
    const doc = yamlDocs.get(text);
    yamlDocs.delete(text);
    yamlDocs.set(text, doc);
    return structuredClone(doc);
  }
  const doc = YAML.parse(text, { merge: true }) as unknown;
  if (text.length > YAML_CACHE_MAX_CHARS) return doc;
  let copy: unknown;
  try {
    copy = structuredClone(doc);
  } catch {
    return doc; // a value structuredClone cannot copy: not cached
  }
  yamlDocs.set(text, copy);
  yamlChars += text.length;
  for (const k of yamlDocs.keys()) {
    if (yamlChars <= YAML_CACHE_MAX_CHARS) break;
    yamlDocs.delete(k);
    yamlChars -= k.length;
  }
  return doc;
}

export function readYamlFile(file: string): unknown {
  const text = readFileSync(file, 'utf8');
  try {
    return parseYamlText(text);
  } catch (error) {
    throw new EngineError('PROJECT_LOAD', `${file} is not valid YAML: ${(error as Error).message}`, {
      cause: error,
      details: { file },
    });
  }
}

/** Reads `dbt_project.yml` (dbt's defaults for whatever is missing). */
export function readProjectFile(root: string): ProjectFile {
  const file = ['dbt_project.yml', 'dbt_project.yaml'].map((f) => path.join(root, f)).find((f) => existsSync(f));
  if (!file)
    throw new EngineError(
      'PROJECT_LOAD',
      `No dbt_project.yml in ${root}. Point the project setting at the folder that contains dbt_project.yml.`,
      { details: { file: root } },
    );
  const raw = record(readYamlFile(file));
  const name = raw.name;
  if (typeof name !== 'string' || !name)
    throw new EngineError('PROJECT_LOAD', `${file} has no "name". Add name: <project_name>.`, { details: { file } });
  const dispatch = Array.isArray(raw.dispatch)
    ? raw.dispatch
        .map((d) => record(d))
        .map((d) => ({ macroNamespace: String(d.macro_namespace ?? ''), searchOrder: strings(d.search_order, []) }))
    : [];
  return {
    name,
    version: raw.version === undefined ? null : String(raw.version),
    modelPaths: strings(raw['model-paths'] ?? raw['source-paths'], ['models']),
    macroPaths: strings(raw['macro-paths'], ['macros']),
    testPaths: strings(raw['test-paths'], ['tests']),
    seedPaths: strings(raw['seed-paths'] ?? raw['data-paths'], ['seeds']),
    snapshotPaths: strings(raw['snapshot-paths'], ['snapshots']),
    vars: record(raw.vars),
    models: record(raw.models),
    seeds: record(raw.seeds),
    snapshots: record(raw.snapshots),
    dataTests: record(raw.data_tests ?? raw.tests),
    onRunStart: strings(raw['on-run-start'], []),
    onRunEnd: strings(raw['on-run-end'], []),
    dispatch,
    quoting: quoting(raw.quoting),
  };
}
