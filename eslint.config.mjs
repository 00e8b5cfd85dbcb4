import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Process boundaries are enforced here, not in prose (DESIGN.md §2):
// the engine never imports electron or the DOM; the contract imports nothing from Node;
// the renderer imports only the contract from the engine.
// The house's boundaries too (../shared/house.json "never"): config takes saved settings as a
// plain value (no store); the hosts (app/cli, app/host, main/) go through the engine (no store).
// A later block for the same files replaces no-restricted-imports whole, so each block repeats
// what app/ as a whole may not import (ENGINE_PATHS, ENGINE_PATTERNS).
const ENGINE_PATHS = [
  { name: 'electron', message: 'app/ is the engine: it never imports electron (DESIGN.md §2).' },
  // Once an AsyncLocalStorage or hook is on, Node 20 runs promise hooks on every promise in the
  // process: the feed reader's per-row async generators lost ~10 % of the sync's CPU to them.
  ...['node:async_hooks', 'async_hooks'].map((name) => ({
    name,
    message:
      'The engine passes context explicitly: async_hooks (AsyncLocalStorage) taxes every promise of the sync (app/couch/couch-client.ts).',
  })),
];
const ENGINE_PATTERNS = [
  { group: ['**/main/**', '**/renderer/**'], message: 'app/ never imports the shell or the UI.' },
];
const NO_STORE = {
  group: ['**/store', '**/store/*'],
  message: 'Hosts go through the engine (bootEngine, the contract’s methods), never the store (house.json).',
};
// The hosts reach the transform engine through the engine; `cht-sync dbt` also through the
// transform's one dbt entry, app/transform/dbt-invocation.ts, never its internals.
const TRANSFORM_ENTRY_ONLY = {
  regex: '^(\\.\\./)+(app/)?transform(/(?!dbt-invocation$).*)?$',
  message:
    'Hosts go through the engine; for dbt commands, app/transform/dbt-invocation.ts is the transform’s one entry (never its internals).',
};

export default tseslint.config(
  { ignores: ['dist/**', 'release/**', 'node_modules/**', 'resources/pipeline/**', 'test-results/**', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      'no-console': 'off',
    },
  },
  {
    files: ['app/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: ENGINE_PATHS, patterns: ENGINE_PATTERNS }],
    },
  },
  {
    files: ['app/config/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ENGINE_PATHS,
          patterns: [
            ...ENGINE_PATTERNS,
            {
              group: ['**/store', '**/store/*'],
              message:
                'app/config takes saved settings as a plain value (their shape and SECRET_NAMES are in app/contract/settings.ts): it never imports the store.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['app/cli/**/*.ts', 'app/host/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: ENGINE_PATHS, patterns: [...ENGINE_PATTERNS, NO_STORE, TRANSFORM_ENTRY_ONLY] },
      ],
    },
  },
  {
    // The Jinja engine stands on its own (its README, its corpus): it imports only its own files and Node.
    files: ['app/transform/jinja/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ENGINE_PATHS,
          patterns: [
            {
              group: ['../*', '**/main/**', '**/renderer/**'],
              message: 'app/transform/jinja stands on its own: import only files of its own folder.',
            },
          ],
        },
      ],
    },
  },
  {
    // Ports and adapters (issue 9 §2): the sync loop knows its ports only; the engine's composition
    // root (app/engine/sync-wiring.ts) wires the CouchDB source and the PostgreSQL sink in.
    files: ['app/sync/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...ENGINE_PATHS,
            {
              name: 'pg',
              message: 'app/sync knows its ports only: PostgreSQL is an adapter (app/postgres).',
              allowTypeImports: true,
            },
            { name: 'nano', message: 'app/sync knows its ports only: CouchDB is an adapter (app/couch).' },
          ],
          patterns: [
            { group: ['**/main/**', '**/renderer/**'], message: 'app/ never imports the shell or the UI.' },
            {
              group: ['**/couch', '**/couch/**', '**/postgres', '**/postgres/**'],
              message:
                'app/sync knows its ports only (app/sync/ports.ts): adapters are wired in by app/engine/sync-wiring.ts.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['app/contract/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'path', 'os', 'pg', 'better-sqlite3', 'nano', 'electron', '../*', '!./*'],
              message: 'app/contract is plain TypeScript shared with the renderer: no Node, no engine, no electron.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'node:*',
                'electron',
                '**/app/*',
                '!**/app/contract',
                '!**/app/contract/*',
                '**/main',
                '**/main/*',
                '**/test/*',
                '**/resources/*',
                '**/package.json',
              ],
              message:
                'The renderer imports its own files and app/contract only: it talks to the engine through an EngineClient.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['main/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/renderer/**'], message: 'main/ never imports the renderer.' },
            NO_STORE,
            TRANSFORM_ENTRY_ONLY,
          ],
        },
      ],
    },
  },
);
