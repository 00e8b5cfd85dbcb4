/**
 * `.dbtignore`: gitignore-style patterns, relative to the project root. Enough of the
 * gitignore grammar for dbt projects: `*`, `**`, `?`, a leading `/` (anchored), a trailing
 * `/` (folders only), `!` negation, `#` comments.
 */
export interface IgnoreMatcher {
  ignores(relPath: string, isDir: boolean): boolean;
}

interface Rule {
  re: RegExp;
  negate: boolean;
  dirOnly: boolean;
}

function toRegExp(pattern: string): RegExp {
  const anchored = pattern.startsWith('/') || pattern.slice(0, -1).includes('/');
  const body = pattern.replace(/^\//, '');
  let re = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '*') {
      if (body[i + 1] === '*') {
        i++;
        if (body[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${anchored ? '' : '(?:.*/)?'}${re}(?:/.*)?$`);
}

export function parseDbtignore(text: string): IgnoreMatcher {
  const rules: Rule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    if (negate) line = line.slice(1);
    const dirOnly = line.endsWith('/');
    if (dirOnly) line = line.slice(0, -1);
    rules.push({ re: toRegExp(line), negate, dirOnly });
  }
  return {
    ignores(relPath, isDir) {
      let ignored = false;
      for (const rule of rules) {
        if (rule.dirOnly && !isDir && !relPath.includes('/')) continue;
        if (rule.re.test(relPath)) ignored = !rule.negate;
      }
      return ignored;
    },
  };
}
