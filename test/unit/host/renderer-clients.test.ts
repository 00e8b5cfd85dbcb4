import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientError, type Wire } from '../../../app/contract';
import type { ChtSyncBridge } from '../../../app/contract/bridge';
import { createElectronClient } from '../../../renderer/api/electron-client';
import { createHttpClient } from '../../../renderer/api/http-client';

/** A stand-in for the browser's EventSource: records listeners, lets the test dispatch. */
class FakeEventSource {
  static instances: FakeEventSource[] = [];
  listeners = new Map<string, ((e: { data: string }) => void)[]>();
  isClosed = false;
  constructor(readonly url: string) {
    FakeEventSource.instances.push(this);
  }
  addEventListener(name: string, l: (e: { data: string }) => void): void {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), l]);
  }
  close(): void {
    this.isClosed = true;
  }
  dispatch(name: string, data: unknown): void {
    for (const l of this.listeners.get(name) ?? []) l({ data: JSON.stringify(data) });
  }
}

describe('createHttpClient', () => {
  it('posts JSON to /api/invoke/:method and unwraps wire values', async () => {
    const requests: { url: string; init: RequestInit }[] = [];
    const answers: Wire<unknown>[] = [
      { ok: true, value: { version: '1' } },
      { ok: false, error: { code: 'BUSY', message: 'busy', retryable: true } },
    ];
    const fakeFetch = (async (url: string, init: RequestInit) => {
      requests.push({ url, init });
      return new Response(JSON.stringify(answers.shift()), { status: 200 });
    }) as unknown as typeof fetch;
    const client = createHttpClient('http://127.0.0.1:9/', { fetch: fakeFetch, token: 'tok' });
    assert.deepEqual(await client.invoke('app.info', {}), { version: '1' });
    assert.equal(requests[0]?.url, 'http://127.0.0.1:9/api/invoke/app.info');
    assert.equal((requests[0]?.init.headers as Record<string, string>)['content-type'], 'application/json');
    assert.equal((requests[0]?.init.headers as Record<string, string>).authorization, 'Bearer tok');
    await assert.rejects(
      client.invoke('transform.runNow', {}),
      (e: unknown) => e instanceof ClientError && e.code === 'BUSY' && e.retryable,
    );
  });

  it('reports a dead server as a retryable ClientError', async () => {
    const client = createHttpClient('http://x', {
      fetch: (async () => Promise.reject(new TypeError('fetch failed'))) as unknown as typeof fetch,
    });
    await assert.rejects(client.invoke('app.info', {}), (e: unknown) => e instanceof ClientError && e.retryable);
  });

  it('shares one EventSource, delivers events by name, closes with the last listener', () => {
    FakeEventSource.instances = [];
    const client = createHttpClient('http://h', { EventSource: FakeEventSource as unknown as typeof EventSource });
    const got: unknown[] = [];
    const off1 = client.on('settings.changed', (p) => got.push(['a', p]));
    const off2 = client.on('run.finished', (p) => got.push(['b', p.id]));
    assert.equal(FakeEventSource.instances.length, 1);
    const source = FakeEventSource.instances[0]!;
    assert.equal(source.url, 'http://h/api/events');
    source.dispatch('settings.changed', {});
    source.dispatch('run.finished', { id: 7 });
    assert.deepEqual(got, [
      ['a', {}],
      ['b', 7],
    ]);
    off1();
    assert.equal(source.isClosed, false);
    off2();
    assert.equal(source.isClosed, true);
  });
});

describe('createElectronClient', () => {
  it('goes through the preload bridge and turns wire errors into ClientError', async () => {
    const seen: [string, unknown][] = [];
    const listeners: [string, (p: unknown) => void][] = [];
    const bridge: ChtSyncBridge = {
      invoke: async (method, args) => {
        seen.push([method, args]);
        return method === 'app.info'
          ? { ok: true, value: { host: 'electron' } }
          : { ok: false, error: { code: 'NOT_FOUND', message: 'no', retryable: false } };
      },
      on: (event, l) => {
        listeners.push([event, l]);
        return () => undefined;
      },
      version: '1.0.0',
    };
    const client = createElectronClient(bridge);
    assert.deepEqual(await client.invoke('app.info', {}), { host: 'electron' });
    await assert.rejects(
      client.invoke('runs.get', { id: 1 }),
      (e: unknown) => e instanceof ClientError && e.code === 'NOT_FOUND',
    );
    assert.deepEqual(seen, [
      ['app.info', {}],
      ['runs.get', { id: 1 }],
    ]);
    client.on('sync.progress', () => undefined);
    assert.equal(listeners[0]?.[0], 'sync.progress');
  });
});
