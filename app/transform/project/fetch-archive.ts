import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  readFileSync,
} from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import * as tar from 'tar';
import yauzl from 'yauzl';
import { EngineError } from '../../core/engine-error';
import { safeUrl } from '../../core/redact';

const run = promisify(execFile);

/**
 * Downloads and unpacks project/package sources once, into `cacheDir`, and reuses the
 * unpacked copy afterwards: a laptop must keep transforming offline, and cht-sync's habit
 * of re-downloading every cycle is what we avoid. A cached copy is keyed by the exact
 * source (URL + ref), so a new ref is a new download.
 */
export interface FetchedTree {
  dir: string;
  fromCache: boolean;
}

export function cacheKey(spec: string): string {
  return createHash('sha256').update(spec).digest('hex').slice(0, 16);
}

/** Where a `git URL#ref` is fetched from without git: GitHub's codeload tarballs. */
export function githubTarballUrl(gitUrl: string, ref: string): string | null {
  const m = /^(?:https?:\/\/|git@)(?:www\.)?github\.com[/:]([^/]+)\/([^/#]+?)(?:\.git)?\/?$/.exec(gitUrl.trim());
  if (!m) return null;
  return `https://codeload.github.com/${m[1]}/${m[2]}/tar.gz/${encodeURIComponent(ref)}`;
}

/** Splits `url#ref` (cht-sync's CHT_PIPELINE_BRANCH_URL form). */
export function splitRef(urlWithRef: string): { url: string; ref: string | null } {
  const hash = urlWithRef.indexOf('#');
  if (hash < 0) return { url: urlWithRef, ref: null };
  return { url: urlWithRef.slice(0, hash), ref: urlWithRef.slice(hash + 1) || null };
}

/** The single top-level folder of an unpacked archive, or the folder itself. */
function rootOf(dir: string): string {
  const entries = readdirSync(dir).filter((e) => e !== 'pax_global_header' && !e.startsWith('._'));
  if (entries.length === 1) {
    const only = path.join(dir, entries[0]!);
    if (statSync(only).isDirectory()) return only;
  }
  return dir;
}

export async function extractArchive(file: string, into: string): Promise<string> {
  mkdirSync(into, { recursive: true });
  if (/\.zip$/i.test(file)) await extractZip(file, into);
  else await tar.x({ file, cwd: into });
  return rootOf(into);
}

function extractZip(file: string, into: string): Promise<void> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('cannot open zip'));
      zip.on('error', reject);
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        const target = path.resolve(into, entry.fileName);
        // Refuse entries that would escape the folder (zip-slip).
        if (!target.startsWith(path.resolve(into) + path.sep) && target !== path.resolve(into)) {
          zip.readEntry();
          return;
        }
        if (entry.fileName.endsWith('/')) {
          mkdirSync(target, { recursive: true });
          zip.readEntry();
          return;
        }
        mkdirSync(path.dirname(target), { recursive: true });
        zip.openReadStream(entry, (e2, stream) => {
          if (e2 || !stream) return reject(e2 ?? new Error('cannot read zip entry'));
          pipeline(stream, createWriteStream(target)).then(() => zip.readEntry(), reject);
        });
      });
      zip.readEntry();
    });
  });
}

async function download(url: string, file: string, signal?: AbortSignal): Promise<void> {
  const res = await fetch(url, { signal: signal ?? AbortSignal.timeout(120_000), redirect: 'follow' });
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} for ${safeUrl(url)}`);
  await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(file));
}

/** A finished cache entry has a marker file; a half-written one is discarded. */
function cached(dir: string): string | null {
  const marker = path.join(dir, '.cht-sync-fetched');
  if (!existsSync(marker)) return null;
  const root = readFileSync(marker, 'utf8').trim();
  return existsSync(root) ? root : null;
}

function markFetched(dir: string, root: string): void {
  writeFileSync(path.join(dir, '.cht-sync-fetched'), root);
}

/**
 * Fetch a tarball/zip URL or a git URL + ref into the cache. Uses the cached copy when
 * present (`refresh` false) and when the network fails.
 */
export async function fetchTree(
  o: { kind: 'archive-url'; url: string } | { kind: 'git'; url: string; ref: string | null },
  cacheDir: string,
  opts: { refresh?: boolean; signal?: AbortSignal } = {},
): Promise<FetchedTree> {
  if (o.kind === 'git') refuseOptionLike(o.url, o.ref);
  const spec = o.kind === 'git' ? `git:${o.url}#${o.ref ?? ''}` : `url:${o.url}`;
  const dir = path.join(cacheDir, cacheKey(spec));
  const hit = cached(dir);
  if (hit && !opts.refresh) return { dir: hit, fromCache: true };
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    let root: string;
    if (o.kind === 'archive-url') {
      const file = path.join(staging, /\.zip(\?|$)/i.test(o.url) ? 'a.zip' : 'a.tar.gz');
      await download(o.url, file, opts.signal);
      root = await extractArchive(file, path.join(staging, 'tree'));
      rmSync(file, { force: true });
    } else {
      const tarball = githubTarballUrl(o.url, o.ref ?? 'HEAD');
      if (tarball) {
        const file = path.join(staging, 'a.tar.gz');
        await download(tarball, file, opts.signal);
        root = await extractArchive(file, path.join(staging, 'tree'));
        rmSync(file, { force: true });
      } else {
        const tree = path.join(staging, 'tree');
        const env = { ...process.env, GIT_TERMINAL_PROMPT: '0' };
        const ref = o.ref && o.ref !== 'HEAD' ? o.ref : null;
        try {
          // `--` before what the user typed: a URL is never read as an option.
          await run('git', ['clone', '--depth', '1', ...(ref ? [`--branch=${ref}`] : []), '--', o.url, tree], {
            timeout: 180_000,
            env,
          });
        } catch (error) {
          // A commit sha cannot be cloned by name: clone everything, then check it out.
          if (!ref) throw error;
          rmSync(tree, { recursive: true, force: true });
          await run('git', ['clone', '--', o.url, tree], { timeout: 300_000, env });
          // `<ref> --`: the ref is a revision, nothing after it a path (and it cannot start with '-').
          await run('git', ['-C', tree, 'checkout', '--detach', ref, '--'], { timeout: 60_000, env });
        }
        rmSync(path.join(tree, '.git'), { recursive: true, force: true });
        root = tree;
      }
    }
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
    const finalRoot = path.join(dir, path.relative(staging, root));
    markFetched(dir, finalRoot);
    return { dir: finalRoot, fromCache: false };
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if (hit) return { dir: hit, fromCache: true };
    const what = o.kind === 'git' ? `${safeUrl(o.url)}${o.ref ? `#${o.ref}` : ''}` : safeUrl(o.url);
    throw new EngineError(
      'PROJECT_PACKAGE',
      `Could not download ${what} and no cached copy exists: ${(error as Error).message}. Connect to the network once, or use a local folder.`,
      { retryable: true, cause: error },
    );
  }
}

/** A git URL or ref starting with '-' would be an option to git (`--upload-pack=…` runs a command): refused. */
function refuseOptionLike(url: string, ref: string | null): void {
  if (url.trim().startsWith('-'))
    throw new EngineError(
      'CONFIG_INVALID',
      `The project's git URL starts with '-' ('${url.slice(0, 40)}'): give a URL such as https://github.com/org/repo.git.`,
    );
  if (ref !== null && ref.trim().startsWith('-'))
    throw new EngineError(
      'CONFIG_INVALID',
      `The project's git branch, tag or commit starts with '-' ('${ref.slice(0, 40)}'): give a name such as main or v1.2.0 after the #.`,
    );
}

/** Unpack a local .zip/.tar.gz into the cache (keyed by path, size and mtime). */
export async function unpackLocalArchive(file: string, cacheDir: string): Promise<string> {
  const st = statSync(file);
  const dir = path.join(cacheDir, cacheKey(`file:${path.resolve(file)}:${st.size}:${st.mtimeMs}`));
  const hit = cached(dir);
  if (hit) return hit;
  rmSync(dir, { recursive: true, force: true });
  const root = await extractArchive(file, path.join(dir, 'tree'));
  markFetched(dir, root);
  return root;
}
