import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { parseVars, splitSelectors } from '../../../app/cli/commands/transform';
import { parsePort } from '../../../app/cli/commands/serve';
import type { CliIo } from '../../../app/cli/context';
import { ago, bytes, shortSeq, table } from '../../../app/cli/output';
import { createProgressReporter } from '../../../app/cli/progress-reporter';
import { runCli } from '../../../app/cli/program';
import { EngineError } from '../../../app/core/engine-error';

function captureIo(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), isTty: false };
}

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('cht-sync program', () => {
  for (const command of ['sync', 'status', 'transform', 'run', 'serve', 'demo']) {
    it(`${command} --help describes the command and the global options, exit 0`, async () => {
      const io = captureIo();
      const code = await runCli(['node', 'cht-sync', command, '--help'], io);
      assert.equal(code, 0);
      const text = io.out.join('\n');
      assert.match(text, new RegExp(`Usage: cht-sync ${command}`));
      assert.match(text, /--couch-url <url>/);
      assert.match(text, /--json/);
    });
  }

  it('--help lists every command', async () => {
    const io = captureIo();
    assert.equal(await runCli(['node', 'cht-sync', '--help'], io), 0);
    for (const c of ['sync', 'status', 'demo', 'transform', 'run', 'serve'])
      assert.match(io.out.join('\n'), new RegExp(`^  ${c}`, 'm'));
  });

  it('usage mistakes exit 2', async () => {
    const io = captureIo();
    assert.equal(await runCli(['node', 'cht-sync', 'nope'], io), 2);
    assert.match(io.err.join('\n'), /unknown command 'nope'/);
    assert.equal(await runCli(['node', 'cht-sync', 'sync', '--log-level', 'loud'], captureIo()), 2);
  });

  it('a configuration error names the setting, exit 2, and --json makes it machine-readable', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'cht-cli-unit-'));
    dirs.push(dataDir);
    const io = captureIo();
    const code = await runCli(
      [
        'node',
        'cht-sync',
        'sync',
        '--once',
        '--data-dir',
        dataDir,
        '--batch-size',
        'lots',
        '--couch-url',
        'http://127.0.0.1:1',
      ],
      io,
    );
    assert.equal(code, 2);
    assert.equal(io.err.join('\n'), "error: --batch-size must be a whole number between 1 and 100000 (got 'lots').");
    const json = captureIo();
    assert.equal(await runCli(['node', 'cht-sync', 'sync', '--once', '--json', '--data-dir', dataDir], json), 2);
    const parsed = JSON.parse(json.out.join('\n')) as { ok: boolean; error: { code: string } };
    assert.deepEqual([parsed.ok, parsed.error.code], [false, 'NOT_CONFIGURED']);
  });

  it('an unusable data folder is a user error naming the setting', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cht-cli-unit-'));
    dirs.push(dir);
    const file = path.join(dir, 'a-file');
    writeFileSync(file, '');
    const io = captureIo();
    assert.equal(await runCli(['node', 'cht-sync', 'status', '--data-dir', file], io), 2);
    assert.match(
      io.err.join('\n'),
      /^error: The data folder .*a-file cannot be created or written \(\w+\)\. Choose another with --data-dir or CHT_SYNC_DATA_DIR\.$/,
    );
  });

  it('status on an empty data folder', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'cht-cli-unit-'));
    dirs.push(dataDir);
    const io = captureIo();
    assert.equal(await runCli(['node', 'cht-sync', 'status', '--data-dir', dataDir], io), 0);
    assert.match(io.out.join('\n'), /Nothing synced yet/);
  });
});

describe('cli helpers', () => {
  it('formats tables, sizes, seqs and times', () => {
    assert.equal(
      table(
        ['A', 'NUM'],
        [
          ['x', 1],
          ['long', 22],
        ],
        ['l', 'r'],
      ),
      'A     NUM\n----  ---\nx       1\nlong   22',
    );
    assert.equal(bytes(512), '512 B');
    assert.equal(bytes(1536), '1.5 KB');
    assert.equal(bytes(5 * 1024 * 1024), '5.0 MB');
    assert.equal(shortSeq('12'), '12');
    assert.equal(shortSeq('123-g1AAAAJLeJzLYWBgYMpgTmHgzcvPy09JdcjLz8gvLskBCScyJNX'), '123-g1AAAAJL…');
    assert.equal(shortSeq(null), '-');
    assert.equal(ago(new Date(Date.now() - 90_000).toISOString()), '2 min ago');
  });

  it('parses --vars as a YAML mapping and rejects anything else', () => {
    assert.deepEqual(parseVars('{batch_size: 1000, flag: true}'), { batch_size: 1000, flag: true });
    assert.deepEqual(parseVars('{"a": "b"}'), { a: 'b' });
    assert.equal(parseVars(undefined), undefined);
    assert.throws(
      () => parseVars('[1, 2]'),
      (e: unknown) => e instanceof EngineError && /--vars must be a YAML or JSON mapping/.test(e.message),
    );
    assert.throws(() => parseVars('{unclosed'), /--vars/);
  });

  it('splits selectors like dbt', () => {
    assert.deepEqual(splitSelectors(['tag:base person+', 'contact']), ['tag:base', 'person+', 'contact']);
    assert.deepEqual(splitSelectors(undefined), []);
  });

  it('checks --port', () => {
    assert.equal(parsePort('8080'), 8080);
    assert.equal(parsePort(undefined), undefined);
    assert.throws(() => parsePort('80a'), /--port must be a number/);
  });

  it('plain progress lines: state changes always, progress at most once per interval per database', () => {
    const lines: string[] = [];
    const r = createProgressReporter({
      isTty: false,
      write: (l) => lines.push(l),
      databases: ['medic'],
      plainIntervalMs: 60_000,
    });
    r.state('medic', { kind: 'catching-up', since: '' });
    r.state('medic', { kind: 'catching-up', since: '' });
    r.progress({
      database: 'medic',
      docs: 1000,
      deletes: 0,
      bytes: 1,
      pending: 9000,
      docsPerSecond: 2500,
      etaSeconds: 3.6,
    });
    r.progress({
      database: 'medic',
      docs: 2000,
      deletes: 0,
      bytes: 1,
      pending: 8000,
      docsPerSecond: 2500,
      etaSeconds: 3.2,
    });
    r.state('medic', { kind: 'backing-off', since: '', retryAt: '2026-01-01T00:00:05Z' });
    assert.deepEqual(lines, [
      'medic: catching-up',
      'medic: 1,000 docs, 9,000 pending, 2,500 docs/s, ETA 4s',
      'medic: backing-off (next try 2026-01-01T00:00:05Z)',
    ]);
  });
});
