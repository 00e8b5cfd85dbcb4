import { readFileSync } from 'node:fs';
import { EngineError } from '../core/engine-error';

/**
 * Reads a docker-compose style env file (as cht-sync's `.env`): `KEY=value`
 * lines, `export ` prefixes, `#` comments (whole-line, or after a space in an
 * unquoted value), single or double quotes. No variable expansion.
 */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [index, rawLine] of text.split(/\r?\n/).entries()) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    // The line itself is never shown: a wrong file (a password file, /etc/shadow) must not be echoed.
    if (!match)
      throw new EngineError(
        'CONFIG_INVALID',
        `Line ${index + 1} of the env file is not KEY=value (KEY: letters, digits and _; nothing of the line is shown). Check that --env-file names your cht-sync .env.`,
      );
    const key = match[1]!;
    let value = match[2] ?? '';
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.indexOf(quote, 1) > 0) {
      value = value.slice(1, value.indexOf(quote, 1));
      if (quote === '"') value = value.replace(/\\n/g, '\n').replace(/\\"/g, '"');
    } else {
      value = value.replace(/\s+#.*$/, '').trim();
    }
    out[key] = value;
  }
  return out;
}

export function readEnvFile(file: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new EngineError(
      'CONFIG_INVALID',
      `--env-file ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}). Check the path.`,
      { cause: error },
    );
  }
  return parseEnvFile(text);
}
