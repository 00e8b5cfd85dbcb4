import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import * as tar from 'tar';
import { silentLogger } from '../../../app/core/logger';
import { loadProject } from '../../../app/transform/project/load-project';

const FIX = path.join(__dirname, '../../fixtures/dbt-projects');

/** A project from a git URL (#ref), a .tar.gz and a package from git: fetched once, then cached. */
describe('project sources: git, archives, cache', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'cht-src-'));

  it('loads a project from a git URL with #ref once, then from the cache when the remote is gone', async () => {
    const repo = path.join(work, 'repo');
    cpSync(path.join(FIX, 'helpers', 'nested'), repo, { recursive: true });
    const git = (...args: string[]): string =>
      execFileSync('git', ['-C', repo, ...args], {
        encoding: 'utf8',
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 't',
          GIT_AUTHOR_EMAIL: 't@t',
          GIT_COMMITTER_NAME: 't',
          GIT_COMMITTER_EMAIL: 't@t',
        },
      });
    execFileSync('git', ['init', '-q', repo]);
    git('add', '.');
    git('commit', '-q', '-m', 'v1');
    git('tag', 'v1');
    const cacheDir = path.join(work, 'cache');
    const url = `file://${repo}#v1`;
    const first = await loadProject({ kind: 'git', url }, { cacheDir, logger: silentLogger });
    assert.equal(first.root.name, 'fixture_nested');
    assert.ok(first.root.root.startsWith(cacheDir));
    rmSync(repo, { recursive: true, force: true });
    const second = await loadProject({ kind: 'git', url }, { cacheDir, logger: silentLogger });
    assert.equal(second.root.root, first.root.root, 'offline: the cached copy is used, nothing is fetched again');
    await assert.rejects(
      loadProject({ kind: 'git', url: `file://${repo}#v2` }, { cacheDir, logger: silentLogger }),
      /Could not download .* no cached copy/,
    );
  });

  it('loads a project from a .tar.gz with a top-level folder, and a git package declared in packages.yml', async () => {
    const repo = path.join(work, 'pkgrepo');
    cpSync(path.join(FIX, 'helpers', 'nested'), repo, { recursive: true });
    execFileSync('git', ['init', '-q', repo]);
    execFileSync('git', ['-C', repo, 'add', '.']);
    execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'v1']);
    const proj = path.join(work, 'src', 'my_project');
    cpSync(path.join(FIX, 'helpers'), proj, { recursive: true });
    rmSync(path.join(proj, 'nested'), { recursive: true });
    writeFileSync(
      path.join(proj, 'packages.yml'),
      `packages:\n  - git: "file://${repo}"\n    revision: HEAD\n  - package: cht-sync-tests/no_such_package\n    version: 1.0.0\n`,
    );
    const archive = path.join(work, 'project.tar.gz');
    await tar.c({ gzip: true, file: archive, cwd: path.join(work, 'src') }, ['my_project']);
    const p = await loadProject(
      { kind: 'path', path: archive },
      { cacheDir: path.join(work, 'cache2'), logger: silentLogger },
    );
    assert.deepEqual(
      p.packages.map((x) => x.name),
      ['fixture_helpers', 'fixture_nested'],
    );
    assert.equal(p.missing.length, 1, 'the hub package cannot be fetched here: a warning, not a failure');
    assert.equal(p.missing[0]?.namespace, 'no_such_package');
    assert.match(p.warnings.join('\n'), /cht-sync-tests\/no_such_package/);
  });
});
