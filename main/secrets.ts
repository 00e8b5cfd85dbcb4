import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EngineError, type SecretStore } from '../app/engine';

export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plain: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

type Entry = { enc: string } | { plain: string };

/**
 * Passwords at rest for the desktop app: encrypted with the OS keychain through
 * Electron's safeStorage, in <dataDir>/secrets.safe.json (0600). Without a keychain
 * (e.g. Linux with no secret service) a password is only written in plain text
 * after the user agreed (`confirmPlaintext`); otherwise saving is refused with the fix.
 */
export function createSafeSecretStore(o: {
  safeStorage: SafeStorageLike;
  dataDir: string;
  confirmPlaintext: () => boolean;
}): SecretStore {
  const file = path.join(o.dataDir, 'secrets.safe.json');
  let isPlaintextAllowed: boolean | null = null;
  const read = (): Record<string, Entry> => {
    if (!existsSync(file)) return {};
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as Record<string, Entry>;
    } catch (error) {
      throw new EngineError(
        'STORE',
        `The saved passwords file ${file} is damaged. Delete it and enter the passwords again in Settings.`,
        { cause: error },
      );
    }
  };
  const write = (all: Record<string, Entry>): void => {
    mkdirSync(o.dataDir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(all, null, 2), { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  };
  return {
    get(name) {
      const entry = read()[name];
      if (!entry) return null;
      if ('plain' in entry) return entry.plain;
      if (!o.safeStorage.isEncryptionAvailable()) {
        throw new EngineError(
          'STORE',
          'The system keychain is not available, so the saved password cannot be read. Unlock the keychain (or log in to the desktop session) and try again.',
          { retryable: true },
        );
      }
      return o.safeStorage.decryptString(Buffer.from(entry.enc, 'base64'));
    },
    set(name, value) {
      const all = read();
      if (value === null) {
        delete all[name];
        write(all);
        return;
      }
      if (o.safeStorage.isEncryptionAvailable()) {
        all[name] = { enc: o.safeStorage.encryptString(value).toString('base64') };
      } else {
        isPlaintextAllowed ??= o.confirmPlaintext();
        if (!isPlaintextAllowed) {
          throw new EngineError(
            'STORE',
            'No system keychain is available to protect the password, and saving it unencrypted was declined. Install/unlock a keychain (e.g. GNOME Keyring), or agree to store it in a file only your user can read.',
          );
        }
        all[name] = { plain: value };
      }
      write(all);
    },
  };
}
