import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { SourceFile } from '../project/types';

/**
 * dbt's global project (`dbt.` namespace): the macros dbt-core + dbt-postgres ship, written
 * for this engine as Jinja SQL in resources/dbt-global/macros/ (our own text, following
 * dbt-postgres's semantics and output). Installed as the package `dbt`, searched last, so a
 * project's own macro of the same name wins, as in dbt.
 */
export const GLOBAL_PACKAGE = 'dbt';

function globalProjectDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    const candidate = path.join(dir, 'resources', 'dbt-global');
    if (existsSync(path.join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return path.resolve(process.cwd(), 'resources', 'dbt-global');
}

let cached: SourceFile[] | null = null;

/** The global project's macro files (read once per process). */
export function globalMacroFiles(): SourceFile[] {
  if (cached) return cached;
  const root = path.join(globalProjectDir(), 'macros');
  const out: SourceFile[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const abs = path.join(dir, e.name);
      if (e.isDirectory()) walk(abs);
      else if (e.name.endsWith('.sql'))
        out.push({
          path: path.relative(path.dirname(root), abs).split(path.sep).join('/'),
          absPath: abs,
          text: readFileSync(abs, 'utf8'),
        });
    }
  };
  if (existsSync(root)) walk(root);
  cached = out;
  return out;
}
