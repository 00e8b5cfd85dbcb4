/**
 * The test entry point behind `npm test`. Runs node's test runner over the test
 * files below the given folders (default: unit, integration, e2e), after making
 * sure the services the integration tests need exist:
 *  - PostgreSQL: `CHT_SYNC_TEST_PG_URL` when set (CI points it at the machine's
 *    server); otherwise an embedded PostgreSQL started here for the run.
 *  - A CouchDB-protocol server: a pouchdb-server started here on a free loopback
 *    port (`CHT_SYNC_TEST_COUCH_URL`), shared by tests that use their own databases.
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { startTestServices } from './support/services';

function findTests(dir: string): string[] {
  let out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const entry of entries.sort()) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) out = out.concat(findTests(full));
    else if (/\.test\.tsx?$/.test(entry)) out.push(full);
  }
  return out;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const roots = args.length ? args : ['test/unit', 'test/integration', 'test/e2e'];
  const files = roots.flatMap((root) => (root.endsWith('.ts') ? [root] : findTests(root)));
  if (files.length === 0) {
    console.error(`no test files under ${roots.join(', ')}`);
    return 1;
  }
  const needsServices = files.some((f) => !f.includes(`${path.sep}unit${path.sep}`) && !f.startsWith('test/unit'));
  const services = needsServices ? await startTestServices() : null;
  try {
    const code = await new Promise<number>((resolve) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
        { stdio: 'inherit', env: { ...process.env, ...(services?.env ?? {}) } },
      );
      child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
    });
    return code;
  } finally {
    await services?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
