import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Process boundaries are enforced here, not in prose (DESIGN.md §2):
// the engine never imports electron or the DOM; the contract imports nothing from Node;
// the renderer imports only the contract from the engine.
export default tseslint.config(
  { ignores: ['dist/**', 'release/**', 'node_modules/**', 'resources/pipeline/**', 'test-results/**', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      'no-console': 'off',
    },
  },
  {
    files: ['app/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'app/ is the engine: it never imports electron (DESIGN.md §2).' }], patterns: [{ group: ['**/main/**', '**/renderer/**'], message: 'app/ never imports the shell or the UI.' }] }],
    },
  },
  {
    // The Jinja engine stands on its own (its README, its corpus): it imports only its own files and Node.
    files: ['app/transform/jinja/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'app/ is the engine: it never imports electron (DESIGN.md §2).' }], patterns: [{ group: ['../*', '**/main/**', '**/renderer/**'], message: 'app/transform/jinja stands on its own: import only files of its own folder.' }] }],
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
          paths: [{ name: 'electron', message: 'app/ is the engine: it never imports electron (DESIGN.md §2).' }, { name: 'pg', message: 'app/sync knows its ports only: PostgreSQL is an adapter (app/postgres).', allowTypeImports: true }, { name: 'nano', message: 'app/sync knows its ports only: CouchDB is an adapter (app/couch).' }],
          patterns: [
            { group: ['**/main/**', '**/renderer/**'], message: 'app/ never imports the shell or the UI.' },
            { group: ['**/couch', '**/couch/**', '**/postgres', '**/postgres/**'], message: 'app/sync knows its ports only (app/sync/ports.ts): adapters are wired in by app/engine/sync-wiring.ts.' },
          ],
        },
      ],
    },
  },
  {
    files: ['app/contract/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*', 'fs', 'path', 'os', 'pg', 'better-sqlite3', 'nano', 'electron', '../*', '!./*'], message: 'app/contract is plain TypeScript shared with the renderer: no Node, no engine, no electron.' }] }],
    },
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*', 'electron', '**/app/*', '!**/app/contract', '!**/app/contract/*'], message: 'The renderer talks to the engine only through app/contract and an EngineClient.' }] }],
    },
  },
  {
    files: ['main/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/renderer/**'], message: 'main/ never imports the renderer.' }] }],
    },
  },
);
