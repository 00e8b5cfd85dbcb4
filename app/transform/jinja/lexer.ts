/**
 * Tokenizer with Jinja2 3.1's default delimiters and whitespace rules
 * (trim_blocks=False, lstrip_blocks=False, keep_trailing_newline=False):
 *  - `{%-`, `{{-`, `{#-` strip all whitespace before the tag; `-%}`, `-}}`, `-#}` strip all
 *    whitespace after it; `+` modifiers are accepted and change nothing with these settings;
 *  - newlines are normalised to `\n` and a single trailing newline of the source is dropped;
 *  - `{% raw %}…{% endraw %}` is emitted as data;
 *  - inside a tag, a closing delimiter is only recognised outside brackets (`{{ {'a': {}} }}`).
 */
import { TemplateSyntaxError } from './errors';
import { strRepr } from './values';

export type TokenType =
  | 'data'
  | 'var_begin'
  | 'var_end'
  | 'block_begin'
  | 'block_end'
  | 'name'
  | 'string'
  | 'integer'
  | 'float'
  | 'op'
  | 'error'
  | 'eof';

export interface Token {
  type: TokenType;
  /** For `op` the operator text; for `string` the decoded value; for numbers the numeric text. */
  value: string;
  line: number;
}

const OPERATORS = [
  '//',
  '**',
  '==',
  '!=',
  '<=',
  '>=',
  '+',
  '-',
  '/',
  '*',
  '%',
  '~',
  '[',
  ']',
  '(',
  ')',
  '{',
  '}',
  '<',
  '>',
  '=',
  '.',
  ':',
  '|',
  ',',
  ';',
];

const NAME_RE = /[a-zA-Z_\p{L}][\w\p{L}\p{N}]*/uy;
const FLOAT_RE = /(?<!\.)(?:\d+_)*\d+(?:(?:\.(?:\d+_)*\d+)?[eE][+-]?(?:\d+_)*\d+|\.(?:\d+_)*\d+)/y;
const INT_RE = /0[bB](?:_?[01])+|0[oO](?:_?[0-7])+|0[xX](?:_?[\da-fA-F])+|(?:[1-9](?:_?\d)*|0(?:_?0)*)/y;
const STRING_RE = /('([^'\\]*(?:\\.[^'\\]*)*)'|"([^"\\]*(?:\\.[^"\\]*)*)")/sy;
const WS_RE = /\s+/y;
// Jinja2 accepts `-%}` or `%}` (not `+%}`) after `raw`, but any modifier after `endraw`.
const RAW_BEGIN_RE = /\{%([-+]?)\s*raw\s*(-?)%\}/y;
const RAW_END_RE = /\{%([-+]?)\s*endraw\s*([-+]?)%\}/g;

function countLines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/** Decodes a Python string literal body (backslash escapes). */
function unescape(body: string, fail: (message: string) => never): string {
  return body.replace(
    /\\(x[\da-fA-F]{2}|u[\da-fA-F]{4}|U[\da-fA-F]{8}|N\{[^}]*\}|[0-7]{1,3}|[\s\S])/g,
    (_m, esc: string) => {
      switch (esc[0]) {
        case 'n':
          return '\n';
        case 't':
          return '\t';
        case 'r':
          return '\r';
        case 'a':
          return '\x07';
        case 'b':
          return '\b';
        case 'f':
          return '\f';
        case 'v':
          return '\v';
        case '\\':
          return '\\';
        case "'":
          return "'";
        case '"':
          return '"';
        case '\n':
          return '';
        case 'x':
        case 'u':
        case 'U': {
          const want = esc[0] === 'x' ? 2 : esc[0] === 'u' ? 4 : 8;
          if (esc.length !== want + 1) fail(`truncated \\${esc[0]}${'X'.repeat(want)} escape`);
          const cp = parseInt(esc.slice(1), 16);
          if (cp > 0x10ffff) fail('illegal Unicode character');
          return String.fromCodePoint(cp);
        }
        case 'N':
          fail(esc.startsWith('N{') ? 'unknown Unicode character name' : 'malformed \\N character escape');
          break;
        default:
          if (/^[0-7]+$/.test(esc)) return String.fromCodePoint(parseInt(esc, 8));
          return `\\${esc}`;
      }
    },
  );
}

/**
 * Tokens of the whole template. A lexing error becomes an `error` token (followed by `eof`):
 * Jinja2 lexes lazily, so the parser must report an earlier syntax error first and only hit
 * the lexing error when it reaches that point.
 */
export function tokenize(sourceIn: string, name: string): Token[] {
  const tokens: Token[] = [];
  try {
    lex(sourceIn, name, tokens);
  } catch (e) {
    if (!(e instanceof TemplateSyntaxError)) throw e;
    tokens.push({ type: 'error', value: e.detail, line: e.line });
    tokens.push({ type: 'eof', value: '', line: e.line });
  }
  return tokens;
}

function lex(sourceIn: string, name: string, tokens: Token[]): void {
  let source = sourceIn.replace(/\r\n|\r/g, '\n');
  if (source.endsWith('\n')) source = source.slice(0, -1);
  let pos = 0;
  let line = 1;
  let pendingLstrip = false;

  const pushData = (text: string, rstrip: boolean): void => {
    let t = text;
    let startLine = line;
    if (pendingLstrip) {
      // The whitespace belongs to the preceding `-%}`: the data starts after it.
      const ws = /^\s*/.exec(t)?.[0] ?? '';
      startLine += countLines(ws);
      t = t.slice(ws.length);
    }
    if (rstrip) t = t.replace(/\s+$/, '');
    pendingLstrip = false;
    if (t) tokens.push({ type: 'data', value: t, line: startLine });
  };

  while (pos < source.length) {
    // Find the next tag start.
    const next = source.slice(pos).search(/\{[{%#]/);
    if (next === -1) {
      pushData(source.slice(pos), false);
      line += countLines(source.slice(pos));
      pos = source.length;
      break;
    }
    const start = pos + next;
    const kind = source[start + 1];
    const modifier = source[start + 2];
    const strip = modifier === '-';
    const dataText = source.slice(pos, start);

    // raw block
    if (kind === '%') {
      RAW_BEGIN_RE.lastIndex = start;
      const raw = RAW_BEGIN_RE.exec(source);
      if (raw) {
        pushData(dataText, raw[1] === '-');
        line += countLines(dataText);
        const afterBegin = start + raw[0].length;
        RAW_END_RE.lastIndex = afterBegin;
        const end = RAW_END_RE.exec(source);
        if (!end) {
          // Jinja2 reports the line after the `{% raw %}` tag (and the whitespace `-%}` ate).
          const eaten = raw[2] === '-' ? (/^\s*/.exec(source.slice(afterBegin))?.[0] ?? '') : '';
          throw new TemplateSyntaxError(
            name,
            line + countLines(raw[0]) + countLines(eaten),
            'Missing end of raw directive',
          );
        }
        let body = source.slice(afterBegin, end.index);
        const beginLine = line;
        line += countLines(source.slice(start, end.index + end[0].length));
        if (raw[2] === '-') body = body.replace(/^\s+/, '');
        if (end[1] === '-') body = body.replace(/\s+$/, '');
        if (body) tokens.push({ type: 'data', value: body, line: beginLine });
        pos = end.index + end[0].length;
        pendingLstrip = end[2] === '-';
        continue;
      }
    }

    pushData(dataText, strip);
    line += countLines(dataText);
    let p = start + 2 + (modifier === '-' || modifier === '+' ? 1 : 0);

    if (kind === '#') {
      const close = source.indexOf('#}', p);
      if (close === -1) throw new TemplateSyntaxError(name, line, 'Missing end of comment tag');
      const stripAfter = source[close - 1] === '-' && close - 1 >= p;
      line += countLines(source.slice(start, close + 2));
      pos = close + 2;
      pendingLstrip = stripAfter;
      continue;
    }

    const isVar = kind === '{';
    const tagLine = line;
    tokens.push({ type: isVar ? 'var_begin' : 'block_begin', value: '', line });
    const closeText = isVar ? '}}' : '%}';
    const brackets: string[] = [];
    let closed = false;
    while (p < source.length) {
      WS_RE.lastIndex = p;
      const ws = WS_RE.exec(source);
      if (ws) {
        line += countLines(ws[0]);
        p += ws[0].length;
        if (p >= source.length) break;
      }
      if (brackets.length === 0) {
        if (source.startsWith(`-${closeText}`, p)) {
          tokens.push({ type: isVar ? 'var_end' : 'block_end', value: '', line });
          p += 3;
          pendingLstrip = true;
          closed = true;
          break;
        }
        if (source.startsWith(`+${closeText}`, p) && !isVar) {
          tokens.push({ type: 'block_end', value: '', line });
          p += 3;
          closed = true;
          break;
        }
        if (source.startsWith(closeText, p)) {
          tokens.push({ type: isVar ? 'var_end' : 'block_end', value: '', line });
          p += 2;
          closed = true;
          break;
        }
      }
      const c = source[p] ?? '';
      if (c === "'" || c === '"') {
        STRING_RE.lastIndex = p;
        const m = STRING_RE.exec(source);
        if (!m) throw new TemplateSyntaxError(name, line, `unexpected char ${strRepr(c)} at ${p}`);
        const body = m[2] ?? m[3] ?? '';
        const fail = (message: string): never => {
          throw new TemplateSyntaxError(name, line, message);
        };
        tokens.push({ type: 'string', value: unescape(body.replace(/\r\n|\r/g, '\n'), fail), line });
        line += countLines(m[0]);
        p += m[0].length;
        continue;
      }
      if (/\d/.test(c)) {
        FLOAT_RE.lastIndex = p;
        const f = FLOAT_RE.exec(source);
        if (f) {
          tokens.push({ type: 'float', value: f[0].replace(/_/g, ''), line });
          p += f[0].length;
          continue;
        }
        INT_RE.lastIndex = p;
        const i = INT_RE.exec(source);
        if (i) {
          tokens.push({ type: 'integer', value: i[0].replace(/_/g, ''), line });
          p += i[0].length;
          continue;
        }
      }
      NAME_RE.lastIndex = p;
      const n = NAME_RE.exec(source);
      if (n) {
        tokens.push({ type: 'name', value: n[0], line });
        p += n[0].length;
        continue;
      }
      const op = OPERATORS.find((o) => source.startsWith(o, p));
      if (op) {
        if (op === '(' || op === '[' || op === '{') brackets.push(op);
        else if (op === ')' || op === ']' || op === '}') {
          const expected = op === ')' ? '(' : op === ']' ? '[' : '{';
          const open = brackets.pop();
          if (open !== expected) {
            throw new TemplateSyntaxError(
              name,
              line,
              open === undefined
                ? `unexpected '${op}'`
                : `unexpected '${op}', expected '${open === '(' ? ')' : open === '[' ? ']' : '}'}'`,
            );
          }
        }
        tokens.push({ type: 'op', value: op, line });
        p += op.length;
        continue;
      }
      throw new TemplateSyntaxError(name, line, `unexpected char ${strRepr(c)} at ${p}`);
    }
    if (!closed) {
      if (brackets.length)
        throw new TemplateSyntaxError(
          name,
          line,
          `unexpected end of template, expected '${brackets.at(-1) === '(' ? ')' : brackets.at(-1) === '[' ? ']' : '}'}'.`,
        );
      throw new TemplateSyntaxError(
        name,
        tagLine,
        `unexpected end of template, expected '${isVar ? 'end of print statement' : 'end of statement block'}'.`,
      );
    }
    pos = p;
  }
  // Jinja2's end-of-stream token carries the line of the last token read (where it started).
  tokens.push({ type: 'eof', value: '', line: tokens.at(-1)?.line ?? 1 });
}
