import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { resolveConfig } from '../../../app/config';
import { memoryLogger } from '../../../app/core/logger';
import { createEngine } from '../../../app/engine/create-engine';
import { generateChtDocs, seedCouch } from '../../../app/generator';
import { startHttpHost, type HttpHost } from '../../../app/host/http-host';
import { startPouchServer, type PouchServer } from '../../support/pouchdb-server';
import { createTestDatabase } from '../../support/postgres';
import { startTcpGate, type TcpGate } from './tcp-gate';

export const SCREENSHOT_DIR = path.resolve('test-results/screenshots');
export const VIEWPORT = { width: 1366, height: 768 };

/** The system's Chromium or Chrome (playwright-core downloads no browser): CHROMIUM_PATH, else the usual places. */
function findChromium(): string {
  const candidates = [
    process.env.CHROMIUM_PATH,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
    '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
    'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe',
  ].filter((c): c is string => Boolean(c));
  const found = candidates.find((c) => existsSync(c));
  if (!found) {
    throw new Error(
      `The UI tests need Chromium or Chrome and found none (looked in ${candidates.join(', ')}). Install it (Debian/Ubuntu: apt-get install chromium) or set CHROMIUM_PATH.`,
    );
  }
  return found;
}

/** Build the renderer the way resources/scripts/build.mjs does, into a private folder (dist/ may be rebuilt meanwhile). */
export async function buildRenderer(outdir: string): Promise<void> {
  await build({
    entryPoints: ['renderer/index.tsx'],
    outdir,
    bundle: true,
    platform: 'browser',
    target: 'chrome120',
    format: 'esm',
    minify: true,
    define: { 'process.env.NODE_ENV': '"production"' },
    loader: { '.woff2': 'file', '.svg': 'file', '.png': 'file' },
    logLevel: 'warning',
  });
  const { cpSync } = await import('node:fs');
  cpSync('renderer/public', outdir, { recursive: true });
}

export interface BareApp {
  host: HttpHost;
  /** The engine behind the host: tests may configure it directly instead of through the wizard. */
  engine: Awaited<ReturnType<typeof createEngine>>;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  dataDir: string;
  stop(): Promise<void>;
}

export interface AppUnderTest extends BareApp {
  /** The CouchDB endpoint the app is told about (a gate in front of pouchdb-server). */
  couch: { url: string; username: string; password: string; gate: TcpGate; server: PouchServer };
  postgres: { url: string; host: string; port: number; database: string; username: string; password: string };
  seeded: Record<string, number>;
}

type Stops = (() => Promise<void>)[];

async function runStops(stops: Stops): Promise<void> {
  for (const s of stops.reverse()) await s().catch((e: unknown) => console.error('e2e cleanup:', e));
}

/** The engine on an EMPTY data folder, the HTTP host serving the freshly built renderer, Chromium at 1366×768. */
async function startHostAndBrowser(stops: Stops): Promise<Omit<BareApp, 'stop'>> {
  const work = mkdtempSync(path.join(tmpdir(), 'cht-e2e-'));
  stops.push(async () => rmSync(work, { recursive: true, force: true }));
  const staticDir = path.join(work, 'renderer');
  const dataDir = path.join(work, 'data');
  mkdirSync(dataDir);
  await buildRenderer(staticDir);

  const logger = memoryLogger();
  const config = resolveConfig({ flags: {}, env: {}, saved: null, dataDir });
  const engine = await createEngine({ dataDir, config, logger, host: 'http' });
  stops.push(() => engine.close());
  const host = await startHttpHost(engine, { staticDir, logger });
  stops.push(() => host.close());

  const browser = await chromium.launch({
    executablePath: findChromium(),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  stops.push(() => browser.close());
  const context = await browser.newContext({ viewport: VIEWPORT, acceptDownloads: true, locale: 'en-GB' });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: host.url });
  const page = await context.newPage();
  // Offline-first: the page may talk to its own origin only.
  const foreign: string[] = [];
  page.on('request', (req) => {
    const u = req.url();
    if (!u.startsWith(host.url) && !u.startsWith('data:') && !u.startsWith('blob:')) foreign.push(u);
  });
  stops.push(async () => {
    if (foreign.length) throw new Error(`the UI made requests outside its own origin: ${foreign.join(', ')}`);
  });
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return { host, engine, browser, context, page, dataDir };
}

/** No CHT server and no PostgreSQL: what a newcomer has (the demo path). */
export async function startBareApp(): Promise<BareApp> {
  const stops: Stops = [];
  try {
    const parts = await startHostAndBrowser(stops);
    return { ...parts, stop: () => runStops(stops) };
  } catch (error) {
    await runStops(stops);
    throw error;
  }
}

/**
 * Everything real: a pouchdb-server seeded by the generator (behind a TCP gate), a fresh
 * database on the test PostgreSQL, and the app from startHostAndBrowser.
 */
export async function startAppUnderTest(o: { docs: number; seed?: number }): Promise<AppUnderTest> {
  const stops: Stops = [];
  try {
    const server = await startPouchServer();
    stops.push(() => server.stop());
    const seeded = await seedCouch(
      server.url,
      { username: server.username, password: server.password },
      generateChtDocs({ seed: o.seed ?? 7, docs: o.docs }),
    );
    const gate = await startTcpGate({ host: '127.0.0.1', port: server.port });
    stops.push(() => gate.close());

    const db = await createTestDatabase('e2e');
    stops.push(() => db.drop());
    const pgUrl = new URL(db.url);

    const parts = await startHostAndBrowser(stops);
    return {
      ...parts,
      couch: { url: gate.url, username: server.username, password: server.password, gate, server },
      postgres: {
        url: db.url,
        host: pgUrl.hostname,
        port: Number(pgUrl.port || 5432),
        database: db.name,
        username: decodeURIComponent(pgUrl.username),
        password: decodeURIComponent(pgUrl.password),
      },
      seeded: seeded.counts,
      stop: () => runStops(stops),
    };
  } catch (error) {
    await runStops(stops);
    throw error;
  }
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });
}
