import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EngineError } from '../core/engine-error';
import { registerSecret } from '../core/redact';

/**
 * Where passwords live. Headless: a 0600 JSON file in the data folder. The
 * desktop shell supplies an implementation backed by Electron's safeStorage.
 */
export interface SecretStore {
  get(name: string): string | null;
  /** `null` removes the secret. */
  set(name: string, value: string | null): void;
}

export function fileSecretStore(dataDir: string): SecretStore {
  const file = path.join(dataDir, 'secrets.json');
  const read = (): Record<string, string> => {
    if (!existsSync(file)) return {};
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      return parsed && typeof parsed === 'object' ? (parsed as Record<string, string>) : {};
    } catch (error) {
      throw new EngineError(
        'STORE',
        `The secrets file ${file} is not valid JSON. Delete it and enter the passwords again.`,
        { cause: error },
      );
    }
  };
  return {
    get(name) {
      const value = read()[name];
      if (typeof value !== 'string') return null;
      registerSecret(value);
      return value;
    },
    set(name, value) {
      const all = read();
      if (value === null) delete all[name];
      else {
        all[name] = value;
        registerSecret(value);
      }
      mkdirSync(dataDir, { recursive: true });
      // Write then rename: a crash never leaves a half-written secrets file.
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(all, null, 2), { mode: 0o600 });
      chmodSync(tmp, 0o600);
      renameSync(tmp, file);
    },
  };
}

/** For tests and callers that must not touch disk. */
export function memorySecretStore(initial: Record<string, string> = {}): SecretStore {
  const all = new Map(Object.entries(initial));
  return {
    get: (name) => all.get(name) ?? null,
    set: (name, value) => {
      if (value === null) all.delete(name);
      else all.set(name, value);
    },
  };
}

/**
 * Passwords are bound to the server they were saved for. Each saved password has a sibling
 * entry `<name>.origin` holding that server's origin — `https://host:port` for CouchDB,
 * `postgres://host:port` for PostgreSQL — and is handed out only to a caller asking for that
 * same origin. A new host, port or scheme therefore needs the password typed again: changing an
 * address (in Settings, through the API or with --couch-url) can never make the app send a saved
 * password to another server. A password saved before origins were recorded is bound to the
 * server the saved settings name (`legacyOrigin`), which is the one it was saved for.
 */
export function saveBoundSecret(store: SecretStore, name: string, origin: string | null, value: string | null): void {
  store.set(name, value);
  store.set(`${name}.origin`, value === null ? null : origin);
}

// The binding rule itself (which origin a password belongs to) is the contract's: app/config applies it too.
export { boundSecret, couchOrigin, postgresOrigin, postgresUrlOrigin } from '../contract/settings';
