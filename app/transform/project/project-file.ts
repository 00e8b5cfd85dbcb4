import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML, { Composer, Lexer, Parser, type CST } from 'yaml';
import { EngineError } from '../../core/engine-error';
import type { TimeSlicer } from '../../core/time-slicer';
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

function cachedYaml(text: string): { doc: unknown } | null {
  if (!yamlDocs.has(text)) return null;
  const doc = yamlDocs.get(text);
  yamlDocs.delete(text);
  yamlDocs.set(text, doc);
  return { doc: structuredClone(doc) };
}

function parseYamlText(text: string): unknown {
  const hit = cachedYaml(text);
  return hit ? hit.doc : remember(text, YAML.parse(text, { merge: true }) as unknown);
}

/** Lexemes of YAML read between two ticks of a slicer. */
const LEXEMES_PER_TICK = 256;

/**
 * YAML.parse(text, { merge: true }) with the tokenising (most of its time) done in slices: the
 * lexer's tokens are fed to yaml's own Parser and Composer, ticking between runs of them, and
 * the document is converted as YAML.parse converts it. Anything but one clean document (an
 * error, a warning, several documents) is handed to YAML.parse itself, so what is thrown,
 * warned and returned is exactly what it throws, warns and returns.
 */
async function parseYamlTextSliced(text: string, slicer: TimeSlicer): Promise<unknown> {
  const hit = cachedYaml(text);
  if (hit) return hit.doc;
  const parser = new Parser();
  const tokens: CST.Token[] = [];
  let n = 0;
  for (const lexeme of new Lexer().lex(text, false)) {
    for (const token of parser.next(lexeme)) tokens.push(token);
    if (++n % LEXEMES_PER_TICK === 0) await slicer.tick();
  }
  for (const token of parser.end()) tokens.push(token);
  await slicer.tick();
  const docs = [...new Composer({ merge: true }).compose(tokens, true, text.length)];
  const doc = docs[0];
  if (docs.length !== 1 || !doc || doc.errors.length || doc.warnings.length)
    return remember(text, YAML.parse(text, { merge: true }) as unknown);
  return remember(text, doc.toJS({ merge: true }) as unknown);
}

/** Keeps a copy of `doc` for the next read of `text`; returns `doc`. */
function remember(text: string, doc: unknown): unknown {
  if (text.length > YAML_CACHE_MAX_CHARS) return doc;
  let copy: unknown;
  try {
    copy = structuredClone(doc);
  } catch {
    return doc; // a value structuredClone cannot copy: not cached
  }
  if (!yamlDocs.has(text)) yamlChars += text.length;
  yamlDocs.set(text, copy);
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
    throw notYaml(file, error);
  }
}

/** readYamlFile, parsed in time slices (a long properties file would hold the event loop). */
export async function readYamlFileSliced(file: string, slicer: TimeSlicer): Promise<unknown> {
  const text = readFileSync(file, 'utf8');
  try {
    return await parseYamlTextSliced(text, slicer);
  } catch (error) {
    throw notYaml(file, error);
  }
}

function notYaml(file: string, error: unknown): EngineError {
  return new EngineError('PROJECT_LOAD', `${file} is not valid YAML: ${(error as Error).message}`, {
    cause: error,
    details: { file },
  });
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
