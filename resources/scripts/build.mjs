// Builds everything `npm ci` must leave runnable: the `cht-sync` CLI, the Electron
// main process and preload, and the renderer bundle. esbuild only transpiles; the
// type-check is `npm run typecheck`.
import { build } from 'esbuild';
import { cliBundleOptions } from './cli-bundle.mjs';
import { chmodSync, cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dist = path.join(root, 'dist');
const watch = process.argv.includes('--watch');
rmSync(dist, { recursive: true, force: true });

const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  packages: 'external',
  logLevel: 'warning',
  absWorkingDir: root,
};

const jobs = [
  // `node --`: Node 20 takes an `--env-file` anywhere on the command line as its own option (it
  // exits 9 on a missing file before this program runs); after `--` every argument is ours.
  build({
    ...cliBundleOptions('dist/cli.cjs'),
    sourcemap: true,
    absWorkingDir: root,
    banner: { js: '#!/usr/bin/env -S node --' },
  }),
];
if (existsSync(path.join(root, 'main/main.ts'))) {
  jobs.push(
    build({ ...node, entryPoints: ['main/main.ts'], outfile: 'dist/main/main.cjs', external: ['electron'] }),
    // The preload runs sandboxed: one self-contained file, nothing but electron.
    build({
      ...node,
      packages: undefined,
      entryPoints: ['main/preload.ts'],
      outfile: 'dist/main/preload.cjs',
      external: ['electron'],
    }),
  );
}
if (existsSync(path.join(root, 'renderer/index.tsx'))) {
  mkdirSync(path.join(dist, 'renderer'), { recursive: true });
  jobs.push(
    build({
      entryPoints: ['renderer/index.tsx'],
      outdir: 'dist/renderer',
      bundle: true,
      platform: 'browser',
      target: 'chrome120',
      format: 'esm',
      sourcemap: true,
      minify: !watch,
      loader: { '.woff2': 'file', '.svg': 'file', '.png': 'file' },
      define: { 'process.env.NODE_ENV': '"production"' },
      logLevel: 'warning',
      absWorkingDir: root,
    }),
  );
}
await Promise.all(jobs);
// The `cht-sync` bin: npx and npm link run it directly, so it must be executable.
chmodSync(path.join(dist, 'cli.cjs'), 0o755);
if (existsSync(path.join(root, 'renderer/public')))
  cpSync(path.join(root, 'renderer/public'), path.join(dist, 'renderer'), { recursive: true });
console.log('built dist/');
