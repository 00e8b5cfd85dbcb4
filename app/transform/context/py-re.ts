import { callable, None, pyStr, tuple } from '../jinja/values';

/**
 * `modules.re` with Python's semantics on top of JS RegExp: `(?P<name>…)`, `(?P=name)`, inline
 * flags `(?i)`, `re.I/M/S/X`, `match` (anchored at the start), `fullmatch`, `search`, `sub`
 * (`\1`, `\g<name>` in the replacement, `count`), `findall` (strings, or tuples of groups),
 * `split` (with groups, `maxsplit`), `compile`, `escape`; match objects with `group()`,
 * `groups()`, `groupdict()`, `start()`, `end()`, `span()`.
 */
const FLAGS = {
  I: 2,
  IGNORECASE: 2,
  M: 8,
  MULTILINE: 8,
  S: 16,
  DOTALL: 16,
  X: 64,
  VERBOSE: 64,
  A: 256,
  ASCII: 256,
  U: 32,
  UNICODE: 32,
};

function stripVerbose(p: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\') {
      out += c + (p[i + 1] ?? '');
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
      out += c;
    } else if (c === '[') {
      inClass = true;
      out += c;
    } else if (c === '#') {
      while (i < p.length && p[i] !== '\n') i++;
    } else if (!/\s/.test(c)) out += c;
  }
  return out;
}

function translate(pattern: string, flags: number): { source: string; flags: string } {
  let p = pattern;
  let f = flags;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(p);
  if (inline) {
    for (const ch of inline[1]!) f |= ch === 'i' ? 2 : ch === 'm' ? 8 : ch === 's' ? 16 : ch === 'x' ? 64 : 0;
    p = p.slice(inline[0].length);
  }
  if (f & 64) p = stripVerbose(p);
  p = p
    .replace(/\(\?P<([A-Za-z_]\w*)>/g, '(?<$1>')
    .replace(/\(\?P=([A-Za-z_]\w*)\)/g, '\\k<$1>')
    .replace(/\\A/g, '^')
    .replace(/\\Z/g, '(?![\\s\\S])');
  return { source: p, flags: `${f & 2 ? 'i' : ''}${f & 8 ? 'm' : ''}${f & 16 ? 's' : ''}u` };
}

export class PyMatch {
  constructor(
    private readonly m: RegExpExecArray,
    readonly string: string,
  ) {}
  private idx(g: unknown): number | string {
    return typeof g === 'string' ? g : g === undefined ? 0 : Number(g);
  }
  private get(g: unknown): string | null {
    const k = this.idx(g);
    if (typeof k === 'string') return this.m.groups?.[k] ?? null;
    if (k > this.m.length - 1) throw new Error('IndexError: no such group');
    return this.m[k] ?? null;
  }
  readonly group = callable((args) => (args.length <= 1 ? this.get(args[0]) : tuple(args.map((a) => this.get(a)))));
  readonly groups = callable(([dflt]) => tuple(this.m.slice(1).map((x) => x ?? (dflt === undefined ? None : dflt))));
  readonly groupdict = callable(
    ([dflt]) =>
      new Map(Object.entries(this.m.groups ?? {}).map(([k, v]) => [k, v ?? (dflt === undefined ? None : dflt)])),
  );
  readonly start = callable(([g]) => this.span_(g)[0]);
  readonly end = callable(([g]) => this.span_(g)[1]);
  readonly span = callable(([g]) => tuple(this.span_(g)));
  private span_(g: unknown): [number, number] {
    const text = this.get(g);
    if (text === null) return [-1, -1];
    if (this.idx(g) === 0) return [this.m.index, this.m.index + this.m[0].length];
    // JS gives no group offsets without the `d` flag; find the group inside the whole match.
    const at = this.m[0].indexOf(text);
    return [this.m.index + at, this.m.index + at + text.length];
  }
  __getitem__(k: unknown): unknown {
    return this.get(k);
  }
  toString(): string {
    return `<re.Match object; span=(${this.m.index}, ${this.m.index + this.m[0].length}), match='${this.m[0]}'>`;
  }
}

function expandTemplate(repl: string, m: RegExpExecArray): string {
  return repl.replace(
    /\\(?:g<([^>]+)>|(\d{1,2})|([\\nrtfv]))/g,
    (_all, named: string | undefined, num: string | undefined, esc: string | undefined) => {
      if (esc) return ({ '\\': '\\', n: '\n', r: '\r', t: '\t', f: '\f', v: '\v' } as Record<string, string>)[esc]!;
      const key = named ?? num!;
      const v = /^\d+$/.test(key) ? m[Number(key)] : m.groups?.[key];
      return v ?? '';
    },
  );
}

export class PyPattern {
  private readonly source: string;
  private readonly jsFlags: string;
  constructor(
    readonly pattern: string,
    readonly flags: number,
  ) {
    const t = translate(pattern, flags);
    this.source = t.source;
    this.jsFlags = t.flags;
    new RegExp(this.source, this.jsFlags); // throws early on a bad pattern
  }
  private re(extra = ''): RegExp {
    return new RegExp(this.source, this.jsFlags + extra);
  }
  private all(s: string): RegExpExecArray[] {
    const re = this.re('g');
    const out: RegExpExecArray[] = [];
    let m: RegExpExecArray | null;
    while ((m = re.exec(s))) {
      out.push(m);
      if (m[0] === '') re.lastIndex++;
    }
    return out;
  }
  readonly search = callable(([s]) => {
    const str = pyStr(s);
    const m = this.re().exec(str);
    return m ? new PyMatch(m, str) : None;
  });
  readonly match = callable(([s]) => {
    const str = pyStr(s);
    const re = this.re('y');
    const m = re.exec(str);
    return m ? new PyMatch(m, str) : None;
  });
  readonly fullmatch = callable(([s]) => {
    const str = pyStr(s);
    const re = new RegExp(`(?:${this.source})(?![\\s\\S])`, `${this.jsFlags}y`);
    const m = re.exec(str);
    return m ? new PyMatch(m, str) : None;
  });
  readonly findall = callable(([s]) =>
    this.all(pyStr(s)).map((m) =>
      m.length === 1 ? m[0] : m.length === 2 ? (m[1] ?? '') : tuple(m.slice(1).map((x) => x ?? '')),
    ),
  );
  readonly finditer = callable(([s]) => this.all(pyStr(s)).map((m) => new PyMatch(m, pyStr(s))));
  readonly sub = callable((args, kw) => this.subn_(args[0], args[1], args[2] ?? kw.count)[0]);
  readonly subn = callable((args, kw) => tuple(this.subn_(args[0], args[1], args[2] ?? kw.count)));
  private subn_(repl: unknown, s: unknown, count: unknown): [string, number] {
    const str = pyStr(s);
    const max = count === undefined || count === null ? 0 : Number(count);
    let out = '';
    let last = 0;
    let n = 0;
    for (const m of this.all(str)) {
      if (max && n >= max) break;
      out += str.slice(last, m.index) + (typeof repl === 'string' ? expandTemplate(repl, m) : pyStr(repl));
      last = m.index + m[0].length;
      n++;
    }
    return [out + str.slice(last), n];
  }
  readonly split = callable((args, kw) => {
    const str = pyStr(args[0]);
    const max = Number(args[1] ?? kw.maxsplit ?? 0);
    const out: unknown[] = [];
    let last = 0;
    let n = 0;
    for (const m of this.all(str)) {
      if (max && n >= max) break;
      if (m[0] === '' && (m.index === 0 || m.index === str.length)) continue;
      out.push(str.slice(last, m.index), ...m.slice(1).map((x) => x ?? None));
      last = m.index + m[0].length;
      n++;
    }
    out.push(str.slice(last));
    return out;
  });
  toString(): string {
    return `re.compile('${this.pattern}')`;
  }
}

const cache = new Map<string, PyPattern>();
function compile(pattern: unknown, flags: unknown): PyPattern {
  if (pattern instanceof PyPattern) return pattern;
  const f = Number(flags ?? 0);
  const key = `${f}:${pyStr(pattern)}`;
  let p = cache.get(key);
  if (!p) {
    try {
      p = new PyPattern(pyStr(pattern), f);
    } catch (error) {
      throw new Error(`re.error: ${(error as Error).message}`);
    }
    if (cache.size > 500) cache.clear();
    cache.set(key, p);
  }
  return p;
}

const fwd = (method: 'search' | 'match' | 'fullmatch' | 'findall' | 'finditer' | 'split', flagsAt: number) =>
  callable((args, kw) => {
    const p = compile(args[0], args[flagsAt] ?? kw.flags);
    return (p[method] as (a: unknown[], k: Record<string, unknown>) => unknown)(args.slice(1, flagsAt), kw);
  });

export const reModule = {
  ...FLAGS,
  compile: callable((args, kw) => compile(args[0], args[1] ?? kw.flags)),
  search: fwd('search', 2),
  match: fwd('match', 2),
  fullmatch: fwd('fullmatch', 2),
  findall: fwd('findall', 2),
  finditer: fwd('finditer', 2),
  split: fwd('split', 3),
  sub: callable((args, kw) => {
    const p = compile(args[0], args[4] ?? kw.flags);
    return p.sub([args[1], args[2], args[3] ?? kw.count], {});
  }),
  subn: callable((args, kw) => {
    const p = compile(args[0], args[4] ?? kw.flags);
    return p.subn([args[1], args[2], args[3] ?? kw.count], {});
  }),
  escape: callable(([s]) => pyStr(s).replace(/[()[\]{}?*+\-|^$\\.&~# \t\n\r\v\f]/g, (c) => `\\${c}`)),
};
