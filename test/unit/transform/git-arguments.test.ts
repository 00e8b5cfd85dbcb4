import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { EngineError } from '../../../app/core/engine-error';
import { fetchTree } from '../../../app/transform/project/fetch-archive';

/**
 * Issue 11 #6: what the user typed as a project's git URL or ref never reaches git as an option.
 * A stand-in `git` first on PATH records its arguments (one line per call) and fails, as an
 * unreachable server would; the real git is not needed to see what would have been run.
 */
describe(
  'git arguments from a project URL',
  { skip: process.platform === 'win32' && 'a shell-script git stand-in' },
  () => {
    const work = mkdtempSync(path.join(tmpdir(), 'cht-git-args-'));
    const calls = path.join(work, 'calls.txt');
    writeFileSync(path.join(work, 'git'), `#!/bin/sh\nprintf '%s|' "$@" >> '${calls}'\necho >> '${calls}'\nexit 1\n`);
    chmodSync(path.join(work, 'git'), 0o755);
    const savedPath = process.env.PATH;
    process.env.PATH = `${work}${path.delimiter}${savedPath ?? ''}`;
    after(() => {
      process.env.PATH = savedPath;
      rmSync(work, { recursive: true, force: true });
    });
    const recorded = (): string[][] =>
      existsSync(calls)
        ? readFileSync(calls, 'utf8')
            .trim()
            .split('\n')
            .map((l) => l.split('|').slice(0, -1))
        : [];

    it('a URL or a ref starting with "-" is refused before git runs', async () => {
      for (const [url, ref] of [
        ['--upload-pack=touch /tmp/owned', null],
        ['https://git.example.org/p.git', '--upload-pack=touch /tmp/owned'],
      ] as const) {
        await assert.rejects(
          fetchTree({ kind: 'git', url, ref }, path.join(work, 'cache')),
          (e: unknown) => e instanceof EngineError && e.code === 'CONFIG_INVALID' && /starts with '-'/.test(e.message),
        );
      }
      assert.deepEqual(recorded(), []);
    });

    it('every git call has "--" before the user’s URL, and the ref is glued to its option or followed by "--"', async () => {
      await assert.rejects(
        fetchTree({ kind: 'git', url: 'https://git.example.org/p.git', ref: 'v1.2' }, path.join(work, 'cache')),
      );
      const runs = recorded();
      assert.ok(runs.length >= 2, JSON.stringify(runs));
      for (const args of runs.filter((a) => a[0] === 'clone')) {
        assert.equal(args[args.indexOf('https://git.example.org/p.git') - 1], '--', args.join(' '));
        assert.ok(!args.includes('v1.2') || args.includes('--branch=v1.2'), args.join(' '));
      }
    });
  },
);
