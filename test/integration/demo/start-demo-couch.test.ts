import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { memoryLogger } from '../../../app/core/logger';
import { redact } from '../../../app/core/redact';
import { addDemoActivity, startDemoCouch, type DemoCouch } from '../../../app/demo';
import { generateChtDocs } from '../../../app/generator';

const DOCS = 600;
const SEED = 99;

/** Live and deleted counts from the changes feed (pouchdb-server's db info has no doc_del_count). */
async function dbInfo(
  demo: DemoCouch,
  db: string,
): Promise<{ doc_count: number; doc_del_count: number; update_seq: number | string }> {
  const headers = { authorization: `Basic ${Buffer.from(`${demo.username}:${demo.password}`).toString('base64')}` };
  const res = await fetch(`${demo.url}/${encodeURIComponent(db)}`, { headers });
  assert.equal(res.status, 200, `GET /${db}`);
  const info = (await res.json()) as { doc_count: number; update_seq: number | string };
  const changes = await fetch(`${demo.url}/${encodeURIComponent(db)}/_changes`, { headers });
  const body = (await changes.json()) as { results: { deleted?: boolean }[] };
  const deleted = body.results.filter((r) => r.deleted).length;
  assert.equal(body.results.length - deleted, info.doc_count, `${db}: changes feed agrees with doc_count`);
  return { doc_count: info.doc_count, doc_del_count: deleted, update_seq: info.update_seq };
}

describe('startDemoCouch', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'cht-demo-'));
  let demo: DemoCouch | null = null;
  after(async () => {
    await demo?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts pouchdb-server, seeds the four databases with the generator, survives a restart without reseeding', async () => {
    const logger = memoryLogger();
    demo = await startDemoCouch({ dataDir, docs: DOCS, seed: SEED, logger });
    assert.equal(demo.didSeed, true);
    assert.deepEqual(demo.databases, ['medic', 'medic-sentinel', 'medic-users-meta', '_users']);
    assert.doesNotMatch(demo.url, /@/);
    // the password file is private and the password never reaches a log
    assert.equal(statSync(path.join(dataDir, 'demo-couch.json')).mode & 0o777, 0o600);
    assert.ok(!JSON.stringify(logger.entries).includes(demo.password));
    assert.equal(redact(`x ${demo.password} y`), 'x *** y');

    // anonymous requests are refused: no admin party
    const anonymous = await fetch(`${demo.url}/medic/_all_docs`);
    assert.equal(anonymous.status, 401);

    const expected: Record<string, { live: number; deleted: number }> = {};
    for (const { database, doc } of generateChtDocs({ seed: SEED, docs: DOCS })) {
      const e = (expected[database] ??= { live: 0, deleted: 0 });
      if (doc._deleted) e.deleted += 1;
      else e.live += 1;
    }
    for (const db of demo.databases) {
      const info = await dbInfo(demo, db);
      const e = expected[db] ?? { live: 0, deleted: 0 };
      // pouchdb-server's _users holds its own _design/_auth
      const extra = db === '_users' ? 1 : 0;
      assert.equal(info.doc_count, e.live + extra, `${db} live docs`);
      assert.equal(info.doc_del_count, e.deleted, `${db} deleted docs`);
      assert.equal(demo.seeded[db], e.live + e.deleted);
    }
    const seqBefore = (await dbInfo(demo, 'medic')).update_seq;
    const port = demo.port;
    await demo.stop();
    demo = null;

    demo = await startDemoCouch({ dataDir, docs: DOCS, seed: SEED, logger });
    assert.equal(demo.didSeed, false);
    assert.equal(demo.port, port, 'the port is kept so the sync source stays the same');
    const medic = await dbInfo(demo, 'medic');
    assert.equal(medic.doc_count, expected.medic?.live);
    assert.equal(medic.update_seq, seqBefore, 'nothing was written again');

    const activity = await addDemoActivity(demo, 20);
    assert.equal(activity.created + activity.edited + activity.deleted, 20);
    const afterActivity = await dbInfo(demo, 'medic');
    assert.equal(afterActivity.doc_count, medic.doc_count + activity.created - activity.deleted);
    assert.equal(afterActivity.doc_del_count, medic.doc_del_count + activity.deleted);
  });

  it('stops a server orphaned by a killed app and keeps its port', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cht-demo-orphan-'));
    try {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures', 'start-and-hang.ts'), dir],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const first = await new Promise<{ port: number }>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('\n')) resolve(JSON.parse(out) as { port: number });
        });
        child.once('exit', (code) => reject(new Error(`the demo child exited early (${code})`)));
      });
      const orphanPid = (JSON.parse(readFileSync(path.join(dir, 'demo-couch.json'), 'utf8')) as { pid: number }).pid;
      child.kill('SIGKILL'); // no exit hooks run: pouchdb-server is left behind
      await new Promise((r) => child.once('exit', r));
      assert.doesNotThrow(() => process.kill(orphanPid, 0), 'the orphan is still running');

      const again = await startDemoCouch({ dataDir: dir, docs: 150, logger: memoryLogger() });
      try {
        assert.equal(again.port, first.port);
        assert.equal(again.didSeed, false);
        assert.throws(() => process.kill(orphanPid, 0), 'the orphan was stopped');
      } finally {
        await again.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
