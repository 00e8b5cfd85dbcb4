import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AppInfo, RunDetail } from '../../../app/contract';
import { silentLogger } from '../../../app/core/logger';
import { EngineError } from '../../../app/core/engine-error';
import { EventBus } from '../../../app/engine/event-bus';
import type { Engine } from '../../../app/engine/types';
import { startHttpHost, type HttpHost } from '../../../app/host/http-host';

/**
 * The transport under test is real (HTTP on loopback, SSE, cookies); the engine
 * behind it is a small handler table so the test isolates what the host adds:
 * authentication, origin checks, validation, wire errors and events.
 */
function transportEngine(): Pick<Engine, 'handlers' | 'events'> & { bus: EventBus } {
  const bus = new EventBus(silentLogger);
  const info: AppInfo = { version: '9.9.9', dataDir: '/tmp/x', platform: process.platform, host: 'http' };
  const handlers = {
    'app.info': async () => info,
    'runs.get': async ({ id }: { id: number }): Promise<RunDetail> => {
      throw new EngineError('NOT_FOUND', `Run ${id} does not exist.`);
    },
  } as unknown as Engine['handlers'];
  return { handlers, events: bus, bus };
}

function request(
  url: string,
  o: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: o.method ?? 'GET', headers: o.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    if (o.body !== undefined) req.write(o.body);
    req.end();
  });
}

describe('http host', () => {
  let host: HttpHost;
  let engine: ReturnType<typeof transportEngine>;
  let staticDir: string;
  const json = (token?: string): Record<string, string> => ({
    'content-type': 'application/json',
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  });

  before(async () => {
    staticDir = mkdtempSync(path.join(tmpdir(), 'cht-host-'));
    writeFileSync(
      path.join(staticDir, 'index.html'),
      '<!doctype html><title>CHT Sync</title><script type="module" src="/index.js"></script>',
    );
    writeFileSync(path.join(staticDir, 'index.js'), 'console.log(1)');
    engine = transportEngine();
    host = await startHttpHost(engine, { staticDir, logger: silentLogger, heartbeatMs: 200 });
  });
  after(async () => {
    await host.close();
    rmSync(staticDir, { recursive: true, force: true });
  });

  it('binds loopback and uses a fresh random token', () => {
    assert.match(host.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(host.token.length >= 32);
    assert.match(host.urlWithToken, new RegExp(`^${host.url}/\\?token=[\\w-]{32}$`));
    // The printed link never carries the API token.
    assert.ok(!host.urlWithToken.includes(host.token));
  });

  it('refuses API calls and pages without the token, or with a wrong one', async () => {
    const noToken = await request(`${host.url}/api/invoke/app.info`, { method: 'POST', headers: json(), body: '{}' });
    assert.equal(noToken.status, 401);
    assert.equal((JSON.parse(noToken.body) as { ok: boolean }).ok, false);
    const wrong = await request(`${host.url}/api/invoke/app.info`, {
      method: 'POST',
      headers: json('x'.repeat(32)),
      body: '{}',
    });
    assert.equal(wrong.status, 401);
    assert.equal((await request(`${host.url}/`)).status, 401);
    assert.equal((await request(`${host.url}/?token=nope`)).status, 401);
  });

  it('round-trips an invoke with the Bearer token', async () => {
    const res = await request(`${host.url}/api/invoke/app.info`, {
      method: 'POST',
      headers: json(host.token),
      body: '{}',
    });
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), {
      ok: true,
      value: { version: '9.9.9', dataDir: '/tmp/x', platform: process.platform, host: 'http' },
    });
  });

  it('returns INVALID_ARGUMENT naming the field, and engine errors as wire errors', async () => {
    const bad = await request(`${host.url}/api/invoke/runs.get`, {
      method: 'POST',
      headers: json(host.token),
      body: '{"id":"seven"}',
    });
    const wire = JSON.parse(bad.body) as {
      ok: false;
      error: { code: string; message: string; details: { field: string } };
    };
    assert.equal(wire.ok, false);
    assert.equal(wire.error.code, 'INVALID_ARGUMENT');
    assert.equal(wire.error.details.field, 'id');
    assert.match(wire.error.message, /\bid\b/);
    const missing = JSON.parse(
      (
        await request(`${host.url}/api/invoke/runs.get`, {
          method: 'POST',
          headers: json(host.token),
          body: '{"id":7}',
        })
      ).body,
    ) as { error: { code: string } };
    assert.equal(missing.error.code, 'NOT_FOUND');
    const unknown = JSON.parse(
      (await request(`${host.url}/api/invoke/nope.nope`, { method: 'POST', headers: json(host.token), body: '{}' }))
        .body,
    ) as { error: { code: string } };
    assert.equal(unknown.error.code, 'NOT_FOUND');
    const notJson = await request(`${host.url}/api/invoke/app.info`, {
      method: 'POST',
      headers: { authorization: `Bearer ${host.token}`, 'content-type': 'text/plain' },
      body: '{}',
    });
    assert.equal(notJson.status, 415);
  });

  it('refuses a foreign Origin and a foreign Host even with the token', async () => {
    const foreign = await request(`${host.url}/api/invoke/app.info`, {
      method: 'POST',
      headers: { ...json(host.token), origin: 'http://evil.example' },
      body: '{}',
    });
    assert.equal(foreign.status, 403);
    const lookalike = await request(`${host.url}/api/invoke/app.info`, {
      method: 'POST',
      headers: { ...json(host.token), origin: `${host.url}.evil.example` },
      body: '{}',
    });
    assert.equal(lookalike.status, 403);
    const own = await request(`${host.url}/api/invoke/app.info`, {
      method: 'POST',
      headers: { ...json(host.token), origin: host.url },
      body: '{}',
    });
    assert.equal(own.status, 200);
    const rebind = await request(`${host.url}/api/invoke/app.info`, {
      method: 'POST',
      headers: { ...json(host.token), host: `attacker.example:${new URL(host.url).port}` },
      body: '{}',
    });
    assert.equal(rebind.status, 403);
  });

  it('the link sets an HttpOnly SameSite=Strict cookie scoped to this instance and redirects to the clean address', async () => {
    const first = await request(host.urlWithToken);
    assert.equal(first.status, 303);
    assert.equal(first.headers.location, new URL(host.appUrl).pathname);
    assert.match(host.appUrl, /\/s\/\w+\/$/);
    const cookie = first.headers['set-cookie']?.[0] ?? '';
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.match(cookie, new RegExp(`Path=${new URL(host.appUrl).pathname}(;|$)`));
    const pair = cookie.split(';')[0] ?? '';
    const app = host.appUrl.replace(/\/$/, '');
    const page = await request(`${app}/`, { headers: { cookie: pair } });
    assert.equal(page.status, 200);
    assert.match(page.body, /CHT Sync/);
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
    assert.doesNotMatch(String(page.headers['content-security-policy']), /unsafe-eval|unsafe-inline/);
    const script = await request(`${app}/index.js`, { headers: { cookie: pair } });
    assert.equal(script.status, 200);
    assert.match(String(script.headers['content-type']), /javascript/);
    const route = await request(`${app}/history`, { headers: { cookie: pair } });
    assert.match(route.body, /CHT Sync/);
    // A file next to the static folder must stay out of reach of encoded ../ paths.
    writeFileSync(path.join(path.dirname(staticDir), `${path.basename(staticDir)}-secret.txt`), 'SECRET-CONTENT');
    const traversal = await request(`${app}/..%2f${path.basename(staticDir)}-secret.txt`, {
      headers: { cookie: pair },
    });
    assert.doesNotMatch(traversal.body, /SECRET-CONTENT/);
    rmSync(path.join(path.dirname(staticDir), `${path.basename(staticDir)}-secret.txt`));
    const invoke = await request(`${app}/api/invoke/app.info`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: pair },
      body: '{}',
    });
    assert.equal(invoke.status, 200);
    // Outside the instance's path the cookie is worth nothing (a browser would not even send it there).
    const outside = await request(`${host.url}/api/invoke/app.info`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: pair },
      body: '{}',
    });
    assert.equal(outside.status, 401);
  });

  it('issue 11 #2: each instance has its own cookie name and path; one instance never accepts or replaces the other’s', async () => {
    const other = await startHttpHost(transportEngine(), { staticDir, logger: silentLogger });
    try {
      const a = (await request(host.urlWithToken)).headers['set-cookie']?.[0] ?? '';
      const b = (await request(other.urlWithToken)).headers['set-cookie']?.[0] ?? '';
      const [nameA, pathA] = [a.split('=')[0], /Path=([^;]+)/.exec(a)?.[1]];
      const [nameB, pathB] = [b.split('=')[0], /Path=([^;]+)/.exec(b)?.[1]];
      assert.notEqual(nameA, nameB);
      assert.notEqual(pathA, pathB);
      assert.notEqual(pathA, '/');
      // A's cookie presented to B, even on B's own path: refused.
      const bPath = other.appUrl.replace(/\/$/, '');
      const stolen = await request(`${bPath}/api/invoke/app.info`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: a.split(';')[0]! },
        body: '{}',
      });
      assert.equal(stolen.status, 401);
      // Both cookies side by side (one browser, two instances): each host picks its own.
      const both = `${a.split(';')[0]}; ${b.split(';')[0]}`;
      assert.equal(
        (
          await request(`${bPath}/api/invoke/app.info`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', cookie: both },
            body: '{}',
          })
        ).status,
        200,
      );
      assert.equal(
        (
          await request(`${host.appUrl}api/invoke/app.info`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', cookie: both },
            body: '{}',
          })
        ).status,
        200,
      );
    } finally {
      await other.close();
    }
  });

  it('issue 11 #3: the printed link is single-use; the next one is announced; a used link only works where it was used', async () => {
    const announced: string[] = [];
    const own = await startHttpHost(transportEngine(), {
      staticDir,
      logger: silentLogger,
      onLinkUsed: (next) => announced.push(next),
    });
    try {
      const link = own.urlWithToken;
      const first = await request(link);
      assert.equal(first.status, 303);
      const pair = first.headers['set-cookie']?.[0]?.split(';')[0] ?? '';
      // Replayed from the history by someone without the session: refused.
      const replay = await request(link);
      assert.equal(replay.status, 401);
      assert.equal(replay.headers['set-cookie'], undefined);
      // Reopened in the browser that used it: straight to the app, no new cookie.
      const reopened = await request(link, { headers: { cookie: pair } });
      assert.equal(reopened.status, 303);
      assert.equal(reopened.headers['set-cookie'], undefined);
      assert.deepEqual(announced, [own.urlWithToken]);
      assert.notEqual(own.urlWithToken, link);
      assert.equal((await request(own.urlWithToken)).status, 303);
    } finally {
      await own.close();
    }
  });

  it('issue 11 #7: no open redirect, 413 for a large body, 400 for a bad %-encoding', async () => {
    const sneaky = await request(
      `${host.url}/.//evil.example/?token=${new URL(host.urlWithToken).searchParams.get('token')}`,
    );
    assert.equal(sneaky.status, 303);
    assert.equal(sneaky.headers.location, new URL(host.appUrl).pathname);
    assert.ok(sneaky.headers.location?.startsWith('/s/'));
    const big = await request(`${host.url}/api/invoke/app.info`, {
      method: 'POST',
      headers: json(host.token),
      body: 'x'.repeat(3 * 1024 * 1024),
    });
    assert.equal(big.status, 413);
    const badEncoding = await request(`${host.url}/api/invoke/%E0%A4%A`, {
      method: 'POST',
      headers: json(host.token),
      body: '{}',
    });
    assert.equal(badEncoding.status, 400);
  });

  it('streams engine events over SSE with heartbeats', async () => {
    const received = await new Promise<string>((resolve, reject) => {
      const req = http.get(`${host.url}/api/events`, { headers: { authorization: `Bearer ${host.token}` } }, (res) => {
        assert.equal(res.statusCode, 200);
        assert.match(String(res.headers['content-type']), /text\/event-stream/);
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          if (text.includes(': connected') && !text.includes('event:')) {
            engine.bus.emit('sync.stateChanged', {
              database: 'medic',
              state: { kind: 'live', since: '2026-01-01T00:00:00.000Z' },
            });
          }
          if (text.includes('event: sync.stateChanged') && text.includes(': ping')) {
            req.destroy();
            resolve(text);
          }
        });
      });
      req.on('error', reject);
      setTimeout(() => reject(new Error('no event within 5 s')), 5000).unref();
    });
    const dataLine = received.split('\n').find((l) => l.startsWith('data: {"database"'));
    assert.deepEqual(JSON.parse(dataLine?.slice(6) ?? 'null'), {
      database: 'medic',
      state: { kind: 'live', since: '2026-01-01T00:00:00.000Z' },
    });
  });
});

describe('renderer http client against the real host', () => {
  it('invokes and surfaces wire errors as ClientError', async () => {
    const { createHttpClient } = await import('../../../renderer/api/http-client');
    const { ClientError } = await import('../../../app/contract');
    const staticDir = mkdtempSync(path.join(tmpdir(), 'cht-host-'));
    const engine = transportEngine();
    const host = await startHttpHost(engine, { staticDir, logger: silentLogger });
    try {
      const client = createHttpClient(host.url, { token: host.token });
      const info = await client.invoke('app.info', {});
      assert.equal(info.version, '9.9.9');
      await assert.rejects(
        client.invoke('runs.get', { id: 3 }),
        (e: unknown) => e instanceof ClientError && e.code === 'NOT_FOUND',
      );
      const anonymous = createHttpClient(host.url);
      await assert.rejects(
        anonymous.invoke('app.info', {}),
        (e: unknown) => e instanceof ClientError && e.code === 'INVALID_ARGUMENT',
      );
    } finally {
      await host.close();
      rmSync(staticDir, { recursive: true, force: true });
    }
  });
});
