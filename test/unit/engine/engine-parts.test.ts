import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../../app/core/logger';
import { EngineError } from '../../../app/core/engine-error';
import { csvField, csvLine } from '../../../app/engine/data/csv';
import { scrub } from '../../../app/engine/diagnostics';
import { EventBus } from '../../../app/engine/event-bus';
import { invokeHandler } from '../../../app/engine/invoke-handler';
import { combineOutcomes, shortSeq } from '../../../app/engine/sync-status';
import { TransformDaemon } from '../../../app/engine/transform-daemon';
import type { Engine } from '../../../app/engine/types';

const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('csv', () => {
  it('quotes per RFC 4180 and ends lines with CRLF', () => {
    assert.equal(
      csvLine(['a', 'b,c', 'say "hi"', 'two\nlines', null, 3, true]),
      'a,"b,c","say ""hi""","two\nlines",,3,true\r\n',
    );
  });
  it('neutralises spreadsheet formulas but keeps negative numbers', () => {
    assert.equal(csvField('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    assert.equal(csvField('+1 555'), "'+1 555");
    assert.equal(csvField('@SUM(A1)'), "'@SUM(A1)");
    assert.equal(csvField('-12.5'), '-12.5');
    assert.equal(csvField('-cmd'), "'-cmd");
  });
});

describe('outcomes and seqs', () => {
  it('combines per-database outcomes truthfully', () => {
    assert.equal(combineOutcomes(['done', 'done']), 'done');
    assert.equal(combineOutcomes(['done', 'offline']), 'partial');
    assert.equal(combineOutcomes(['offline', 'offline']), 'offline');
    assert.equal(combineOutcomes(['timeout', 'refused']), 'partial');
    assert.equal(combineOutcomes(['timeout']), 'timeout');
  });
  it('shortens long opaque seqs for display only', () => {
    assert.equal(shortSeq('42'), '42');
    assert.equal(shortSeq('123-g1AAAABteJzLYWBgYMpgTmHgz8tPSTV0MDQy1zMAQsMcoEQiQ1L9'), '123-g1AAAABt…');
  });
});

describe('diagnostics scrub', () => {
  it('drops quoted values and key details from database messages', () => {
    assert.equal(scrub('invalid input syntax for type date: "12/31/1990"'), 'invalid input syntax for type date: "…"');
    assert.equal(scrub('Key (name)=(Joyce Banda) already exists'), 'Key (name)=(…) already exists');
    assert.equal(scrub('connect to postgres://u:secretpw@h/db failed'), 'connect to postgres://u:***@h/db failed');
  });
});

describe('invokeHandler', () => {
  const engine = {
    handlers: {
      'runs.get': async ({ id }: { id: number }) => {
        if (id === 1) throw new EngineError('NOT_FOUND', 'no run 1');
        if (id === 2) throw new Error('boom with password=hunter22');
        return { id };
      },
      'runs.list': async (args: unknown) => args,
    } as unknown as Engine['handlers'],
  };
  it('validates, applies defaults and never throws', async () => {
    assert.deepEqual(await invokeHandler(engine, 'runs.get', { id: 5 }), { ok: true, value: { id: 5 } });
    const listed = await invokeHandler(engine, 'runs.list', {});
    assert.deepEqual(listed, { ok: true, value: { limit: 50 } });
    const bad = await invokeHandler(engine, 'runs.get', { id: 'x' });
    assert.equal(bad.ok, false);
    if (!bad.ok) {
      assert.equal(bad.error.code, 'INVALID_ARGUMENT');
      assert.equal(bad.error.details?.field, 'id');
    }
    const missing = await invokeHandler(engine, 'runs.get', { id: 1 });
    assert.equal(!missing.ok && missing.error.code, 'NOT_FOUND');
    const crash = await invokeHandler(engine, 'runs.get', { id: 2 });
    assert.equal(!crash.ok && crash.error.code, 'INTERNAL');
    assert.ok(!crash.ok && !crash.error.message.includes('hunter22'));
    const unknown = await invokeHandler(engine, '__proto__', {});
    assert.equal(!unknown.ok && unknown.error.code, 'NOT_FOUND');
    const extra = await invokeHandler(engine, 'app.info', { sneaky: 1 });
    assert.equal(!extra.ok && extra.error.code, 'INVALID_ARGUMENT');
  });
});

describe('EventBus', () => {
  it('fans out, unsubscribes, and survives a throwing listener', () => {
    const bus = new EventBus(silentLogger);
    const got: string[] = [];
    bus.on('settings.changed', () => {
      throw new Error('bad listener');
    });
    const off = bus.on('settings.changed', () => got.push('a'));
    bus.emit('settings.changed', {});
    off();
    bus.emit('settings.changed', {});
    assert.deepEqual(got, ['a']);
  });
});

describe('TransformDaemon', () => {
  it('debounces bursts, never overlaps, and runs once more for rows that landed during a run', async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const gates: (() => void)[] = [];
    const until = async (f: () => boolean): Promise<void> => {
      const deadline = Date.now() + 5000;
      while (!f()) {
        if (Date.now() > deadline) throw new Error('timed out');
        await wait(5);
      }
    };
    const daemon = new TransformDaemon(
      async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        runs++;
        await new Promise<void>((release) => gates.push(release));
        running--;
      },
      { minIntervalMs: 0, debounceMs: 20 },
    );
    for (let i = 0; i < 5; i++) daemon.markDirty();
    await until(() => runs === 1);
    daemon.markDirty();
    daemon.markDirty();
    await wait(60);
    assert.equal(runs, 1, 'no second run while the first is in flight');
    gates.shift()?.();
    await until(() => runs === 2);
    gates.shift()?.();
    await wait(80);
    assert.equal(runs, 2, 'rows during a run give exactly one more');
    assert.equal(maxRunning, 1);
    await daemon.stop();
  });
  it('keeps the minimum interval between starts', async () => {
    const starts: number[] = [];
    const daemon = new TransformDaemon(async () => void starts.push(Date.now()), { minIntervalMs: 150, debounceMs: 5 });
    daemon.markDirty();
    await wait(30);
    daemon.markDirty();
    for (let i = 0; i < 300 && starts.length < 2; i++) await wait(10);
    await daemon.stop();
    assert.equal(starts.length, 2);
    assert.ok(starts[1]! - starts[0]! >= 140, `gap ${starts[1]! - starts[0]!} ms`);
  });
});
