import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EngineError } from '../../core/engine-error';
import type { Logger } from '../../core/logger';
import { TimeSlicer } from '../../core/time-slicer';
import { parseDbtignore, type IgnoreMatcher } from './dbtignore';
import { cacheKey, fetchTree, splitRef, unpackLocalArchive } from './fetch-archive';
import { readProjectFile, readYamlFile, readYamlFileSliced } from './project-file';
import { parseProperties } from './properties';
import { parseSelectors } from './selectors';
import type { DbtPackage, LoadedProject, MissingPackage, SourceFile } from './types';

export type ProjectSource =
  | { kind: 'path'; path: string }
  | { kind: 'folder'; path: string }
  | { kind: 'git'; url: string }
  | { kind: 'archive-url'; url: string };

export interface LoadOptions {
  cacheDir: string;
  logger: Logger;
  signal?: AbortSignal;
  /** Re-download git/hub/tarball sources even when cached (the explicit "update project" action). */
  refresh?: boolean;
  /** Yields to the event loop between files (core/time-slicer.ts); default: a new one. */
  slicer?: TimeSlicer;
}

/** A folder, a .zip/.tar.gz file, a git URL (`#ref`) or an archive URL → a folder on disk. */
export async function resolveProjectRoot(source: ProjectSource, o: LoadOptions): Promise<string> {
  if (source.kind === 'git') {
    const { url, ref } = splitRef(source.url);
    if (/\.(zip|tar\.gz|tgz)(\?|$)/i.test(url))
      return (await fetchTree({ kind: 'archive-url', url }, path.join(o.cacheDir, 'sources'), o)).dir;
    return (await fetchTree({ kind: 'git', url, ref }, path.join(o.cacheDir, 'sources'), o)).dir;
  }
  if (source.kind === 'archive-url')
    return (await fetchTree({ kind: 'archive-url', url: source.url }, path.join(o.cacheDir, 'sources'), o)).dir;
  const p = path.resolve(source.path);
  if (!existsSync(p))
    throw new EngineError(
      'PROJECT_LOAD',
      `The dbt project ${p} does not exist. Choose a folder that contains dbt_project.yml.`,
      { details: { file: p } },
    );
  if (statSync(p).isFile()) {
    if (!/\.(zip|tar\.gz|tgz|tar)$/i.test(p))
      throw new EngineError('PROJECT_LOAD', `${p} is a file, not a dbt project folder or a .zip/.tar.gz archive.`, {
        details: { file: p },
      });
    return unpackLocalArchive(p, path.join(o.cacheDir, 'sources'));
  }
  return p;
}

function walk(root: string, rel: string, ignore: IgnoreMatcher | null, out: string[]): void {
  const dir = path.join(root, rel);
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return;
  }
  for (const e of entries) {
    if (e.startsWith('.')) continue;
    const r = rel ? `${rel}/${e}` : e;
    const full = path.join(root, r);
    const isDir = statSync(full).isDirectory();
    if (ignore?.ignores(r, isDir)) continue;
    if (isDir) walk(root, r, ignore, out);
    else out.push(r);
  }
}

/**
 * A package's files, read and parsed one at a time with `slicer.tick()` between them (a large
 * project is hundreds of files: read at once they would hold the event loop).
 */
async function readPackage(root: string, isRoot: boolean, warnings: string[], slicer: TimeSlicer): Promise<DbtPackage> {
  const project = readProjectFile(root);
  const ignoreFile = path.join(root, '.dbtignore');
  const ignore = existsSync(ignoreFile) ? parseDbtignore(readFileSync(ignoreFile, 'utf8')) : null;
  const files = async (paths: string[]): Promise<string[]> => {
    const out: string[] = [];
    for (const p of paths) {
      await slicer.tick();
      walk(root, p.replace(/\/+$/, ''), ignore, out);
    }
    return out;
  };
  const load = async (rels: string[]): Promise<SourceFile[]> => {
    const out: SourceFile[] = [];
    for (const rel of rels) {
      await slicer.tick();
      out.push({ path: rel, absPath: path.join(root, rel), text: readFileSync(path.join(root, rel), 'utf8') });
    }
    return out;
  };
  const modelFiles = await files(project.modelPaths);
  const macroFiles = await files(project.macroPaths);
  const testFiles = await files(project.testPaths);
  const seedFiles = await files(project.seedPaths);
  const snapshotFiles = await files(project.snapshotPaths);
  const pkg: DbtPackage = {
    name: project.name,
    root,
    isRoot,
    project,
    models: await load(modelFiles.filter((f) => f.endsWith('.sql'))),
    // dbt also reads {% test %} definitions from <test-path>/generic/.
    macros: await load(
      [
        ...macroFiles,
        ...testFiles.filter((f) => project.testPaths.some((p) => f.startsWith(`${p.replace(/\/+$/, '')}/generic/`))),
      ].filter((f) => f.endsWith('.sql')),
    ),
    tests: await load(testFiles.filter((f) => f.endsWith('.sql'))),
    seeds: await load(seedFiles.filter((f) => f.endsWith('.csv'))),
    snapshots: await load(snapshotFiles.filter((f) => f.endsWith('.sql'))),
    modelProps: [],
    seedProps: [],
    snapshotProps: [],
    sources: [],
    unitTests: [],
    dependencies: [],
  };
  for (const f of modelFiles.filter((x) => x.endsWith('.py')))
    warnings.push(`${project.name}: Python model ${f} is not supported and was skipped.`);
  for (const rel of [...new Set([...modelFiles, ...macroFiles, ...testFiles, ...seedFiles, ...snapshotFiles])].filter(
    (f) => /\.ya?ml$/.test(f),
  )) {
    await slicer.tick();
    const props = parseProperties(await readYamlFileSliced(path.join(root, rel), slicer), rel);
    pkg.modelProps.push(...props.models);
    pkg.seedProps.push(...props.seeds);
    pkg.snapshotProps.push(...props.snapshots);
    pkg.sources.push(...props.sources);
    pkg.unitTests.push(...props.unitTests);
  }
  return pkg;
}

interface PackageSpec {
  kind: 'local' | 'git' | 'tarball' | 'hub';
  spec: string;
  /** The expected namespace (for hub packages, from the package name). */
  guess: string | null;
  resolve: () => Promise<string>;
}

function packageSpecs(pkgRoot: string, projectRoot: string, o: LoadOptions): PackageSpec[] {
  const file = ['packages.yml', 'dependencies.yml'].map((f) => path.join(pkgRoot, f)).find((f) => existsSync(f));
  if (!file) return [];
  const doc = readYamlFile(file) as { packages?: unknown } | null;
  const list = Array.isArray(doc?.packages) ? (doc.packages as Record<string, unknown>[]) : [];
  const specs: PackageSpec[] = [];
  for (const entry of list) {
    if (!entry || typeof entry !== 'object') continue;
    if (typeof entry.local === 'string') {
      // dbt resolves a nested package's local path against the root project; accept both.
      const own = path.resolve(pkgRoot, entry.local);
      const dir = existsSync(own) ? own : path.resolve(projectRoot, entry.local);
      specs.push({ kind: 'local', spec: `local:${entry.local}`, guess: null, resolve: async () => dir });
    } else if (typeof entry.git === 'string') {
      const url = entry.git;
      const ref = entry.revision === undefined ? null : String(entry.revision);
      const sub = typeof entry.subdirectory === 'string' ? entry.subdirectory : '';
      specs.push({
        kind: 'git',
        spec: `git:${url}${ref ? `#${ref}` : ''}`,
        guess: null,
        resolve: async () =>
          path.join((await fetchTree({ kind: 'git', url, ref }, path.join(o.cacheDir, 'packages'), o)).dir, sub),
      });
    } else if (typeof entry.tarball === 'string') {
      const url = entry.tarball;
      specs.push({
        kind: 'tarball',
        spec: `tarball:${url}`,
        guess: typeof entry.name === 'string' ? entry.name : null,
        resolve: async () => (await fetchTree({ kind: 'archive-url', url }, path.join(o.cacheDir, 'packages'), o)).dir,
      });
    } else if (typeof entry.package === 'string') {
      const name = entry.package;
      const version = entry.version === undefined ? null : entry.version;
      const guess = (name.split('/').pop() ?? name).replace(/-/g, '_');
      specs.push({
        kind: 'hub',
        spec: `${name}@${typeof version === 'string' || typeof version === 'number' ? String(version) : JSON.stringify(version)}`,
        guess,
        resolve: () => resolveHubPackage(name, version, guess, projectRoot, o),
      });
    }
  }
  return specs;
}

function versionParts(v: string): number[] {
  return v
    .replace(/^v/, '')
    .split(/[.-]/)
    .map((x) => Number.parseInt(x, 10) || 0);
}
function compareVersions(a: string, b: string): number {
  const pa = versionParts(a);
  const pb = versionParts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}
function satisfies(v: string, constraint: string): boolean {
  const m = /^(>=|<=|>|<|=|==)?\s*(.+)$/.exec(constraint.trim());
  if (!m) return true;
  const c = compareVersions(v, m[2]!);
  switch (m[1]) {
    case '>=':
      return c >= 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '<':
      return c < 0;
    default:
      return c === 0;
  }
}

const HUB_RETRY_MS = 10 * 60_000;

/** dbt Hub: the hub API names the tarball of each version; the unpacked tree is cached. */
async function resolveHubPackage(
  name: string,
  version: unknown,
  guess: string,
  projectRoot: string,
  o: LoadOptions,
): Promise<string> {
  const constraints = (Array.isArray(version) ? version : version === null ? [] : [version]).map(String);
  // A `dbt deps` already run in the project (dbt_packages/) is a valid offline copy.
  const installed = path.join(projectRoot, 'dbt_packages', guess);
  const pointer = path.join(o.cacheDir, 'packages', `hub-${cacheKey(`${name}@${constraints.join(',')}`)}.txt`);
  if (!o.refresh && existsSync(pointer)) {
    const dir = readFileSync(pointer, 'utf8').trim();
    if (existsSync(dir)) return dir;
  }
  // After a failed attempt, do not try again for a while: an offline laptop runs transforms
  // after every sync batch, and each attempt could wait for a network timeout.
  const failedMarker = `${pointer}.failed`;
  if (!o.refresh && existsSync(failedMarker) && Date.now() - statSync(failedMarker).mtimeMs < HUB_RETRY_MS) {
    if (existsSync(path.join(installed, 'dbt_project.yml'))) return installed;
    throw new Error(
      `the last download attempt failed (${readFileSync(failedMarker, 'utf8').trim()}); retrying after ${HUB_RETRY_MS / 60_000} minutes`,
    );
  }
  try {
    const res = await fetch(`https://hub.getdbt.com/api/v1/${name}.json`, {
      signal: o.signal ?? AbortSignal.timeout(20_000),
    });
    if (!res.ok) throw new Error(`hub answered HTTP ${res.status}`);
    const index = (await res.json()) as { versions?: Record<string, { downloads?: { tarball?: string } }> };
    const versions = Object.keys(index.versions ?? {})
      .filter((v) => !/[a-z]/i.test(v.replace(/^v/, '')))
      .filter((v) => constraints.every((c) => satisfies(v, c)))
      .sort(compareVersions);
    const chosen = versions.at(-1);
    const tarball = chosen ? index.versions?.[chosen]?.downloads?.tarball : undefined;
    if (!chosen || !tarball) throw new Error(`no version matches ${constraints.join(', ') || 'any'}`);
    const dir = (await fetchTree({ kind: 'archive-url', url: tarball }, path.join(o.cacheDir, 'packages'), o)).dir;
    rmSync(failedMarker, { force: true });
    mkdirSync(path.dirname(pointer), { recursive: true });
    writeFileSync(pointer, dir);
    return dir;
  } catch (error) {
    try {
      mkdirSync(path.dirname(failedMarker), { recursive: true });
      writeFileSync(failedMarker, (error as Error).message);
    } catch {
      // the cache folder is not writable: we simply try again next time
    }
    if (existsSync(path.join(installed, 'dbt_project.yml'))) return installed;
    throw error;
  }
}

/** Load a project and every package it depends on (local, git, tarball, hub), recursively. */
export async function loadProject(source: ProjectSource, o: LoadOptions): Promise<LoadedProject> {
  const rootDir = await resolveProjectRoot(source, o);
  const warnings: string[] = [];
  const slicer = o.slicer ?? new TimeSlicer();
  const root = await readPackage(rootDir, true, warnings, slicer);
  const byName = new Map<string, DbtPackage>([[root.name, root]]);
  const missing: MissingPackage[] = [];
  const seenSpecs = new Set<string>();
  const queue: DbtPackage[] = [root];
  while (queue.length) {
    const pkg = queue.shift()!;
    for (const spec of packageSpecs(pkg.root, rootDir, o)) {
      if (spec.guess && byName.has(spec.guess)) {
        pkg.dependencies.push(spec.guess);
        continue;
      }
      if (seenSpecs.has(spec.spec)) continue;
      seenSpecs.add(spec.spec);
      let dir: string;
      try {
        dir = await spec.resolve();
      } catch (error) {
        const namespace = spec.guess ?? spec.spec;
        const reason = (error as Error).message;
        missing.push({ namespace, spec: spec.spec, reason });
        warnings.push(
          `Package ${spec.spec} (required by ${pkg.name}) could not be fetched: ${reason}. Continuing without it; a model that calls one of its macros will fail.`,
        );
        o.logger.warn('dbt package unavailable', { package: spec.spec, reason });
        continue;
      }
      if (!existsSync(path.join(dir, 'dbt_project.yml')) && !existsSync(path.join(dir, 'dbt_project.yaml'))) {
        throw new EngineError(
          'PROJECT_PACKAGE',
          `Package ${spec.spec} (required by ${pkg.name}) has no dbt_project.yml at ${dir}.`,
          { details: { file: dir } },
        );
      }
      const child = await readPackage(dir, false, warnings, slicer);
      pkg.dependencies.push(child.name);
      if (byName.has(child.name)) continue;
      byName.set(child.name, child);
      queue.push(child);
    }
  }
  const others = [...byName.values()].filter((p) => !p.isRoot).sort((a, b) => a.name.localeCompare(b.name));
  const selectorsFile = ['selectors.yml', 'selectors.yaml']
    .map((f) => path.join(rootDir, f))
    .find((f) => existsSync(f));
  const selectors = selectorsFile ? parseSelectors(readYamlFile(selectorsFile)) : [];
  return { root, packages: [root, ...others], missing, selectors, warnings };
}
