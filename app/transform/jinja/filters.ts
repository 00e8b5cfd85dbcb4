/** Jinja2 3.1's built-in filters, with its argument names, defaults and edge cases. */
import { PyError, typeError, valueError } from './errors';
import type { EvalContext, JinjaFilter } from './interpreter';
import { pyMethod, stableReverse } from './methods';
import {
  Undefined,
  applyFormatSpec,
  fixedPy,
  floatRepr,
  isFloat,
  isInt,
  isMapping,
  isNumeric,
  isTuple,
  mapEntries,
  mkFloat,
  num,
  percentFormat,
  pyAdd,
  pyCmp,
  pyEq,
  pyIter,
  pyLen,
  pyRepr,
  pyStr,
  tuple,
  typeName,
  PyFloat,
  MISSING,
  Namespace,
} from './values';

type Params = [name: string, dflt: unknown][];

/** Binds positional + keyword arguments to a Python-style parameter list. */
function bind(filter: string, params: Params, args: unknown[], kwargs: Record<string, unknown>): unknown[] {
  if (args.length > params.length)
    throw typeError(`${filter}() takes at most ${params.length + 1} arguments (${args.length + 1} given)`);
  const out = params.map(([name, dflt], i) => {
    if (i < args.length) {
      if (Object.prototype.hasOwnProperty.call(kwargs, name))
        throw typeError(`${filter}() got multiple values for argument '${name}'`);
      return args[i];
    }
    return Object.prototype.hasOwnProperty.call(kwargs, name) ? kwargs[name] : dflt;
  });
  for (const k of Object.keys(kwargs)) {
    if (!params.some(([n]) => n === k)) throw typeError(`${filter}() got an unexpected keyword argument '${k}'`);
  }
  return out;
}

const REQUIRED = Symbol('required');

function required(filter: string, v: unknown, name: string): unknown {
  // Worded like the Python TypeError Jinja2 raises from its do_<filter> function.
  if (v === REQUIRED) throw typeError(`do_${filter}() missing 1 required positional argument: '${name}'`);
  return v;
}

function isUndef(v: unknown): boolean {
  return v === undefined || v instanceof Undefined;
}

function ignoreCase(v: unknown): unknown {
  return typeof v === 'string' ? v.toLowerCase() : v;
}

/** Jinja2's make_attrgetter: dotted paths, integer parts, getitem-first lookup. */
function attrGetter(
  ctx: EvalContext,
  attribute: unknown,
  postprocess: ((v: unknown) => unknown) | null = null,
  dflt: unknown = null,
): (item: unknown) => unknown {
  const parts =
    typeof attribute === 'string'
      ? attribute.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p))
      : attribute === null || attribute === undefined
        ? []
        : [attribute];
  return (item) => {
    let v = item;
    for (const p of parts) {
      v = ctx.getitem(v, p);
      if (dflt !== null && dflt !== undefined && v instanceof Undefined) v = dflt;
    }
    return postprocess ? postprocess(v) : v;
  };
}

function multiAttrGetter(
  ctx: EvalContext,
  attribute: unknown,
  postprocess: ((v: unknown) => unknown) | null,
): (item: unknown) => unknown {
  if (typeof attribute === 'string' && attribute.includes(',')) {
    const getters = attribute.split(',').map((a) => attrGetter(ctx, a, postprocess));
    return (item) => getters.map((g) => g(item));
  }
  return attrGetter(ctx, attribute, postprocess);
}

function sortBy(items: unknown[], key: (v: unknown) => unknown, reverse: boolean): unknown[] {
  const keyed = items.map((v) => ({ v, k: key(v) }));
  keyed.sort((a, b) => cmpKeys(a.k, b.k));
  if (reverse) stableReverse(keyed, (a, b) => cmpKeys(a.k, b.k) === 0);
  return keyed.map((x) => x.v);
}

function cmpKeys(a: unknown, b: unknown): number {
  if (Array.isArray(a) && Array.isArray(b) && !isTuple(a) && !isTuple(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = pyCmp(a[i], b[i]);
      if (c) return c;
    }
    return a.length - b.length;
  }
  return pyCmp(a, b);
}

export function htmlEscape(v: unknown): string {
  return pyStr(v)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&#34;')
    .replace(/'/g, '&#39;');
}

/** Python float(x) for the `float` filter; throws ValueError/TypeError like Python. */
function toFloat(v: unknown): number {
  if (isNumeric(v)) return num(v);
  if (typeof v === 'string') {
    const s = v.trim().replace(/_/g, '');
    if (/^[+-]?(\d+\.?\d*(e[+-]?\d+)?|\.\d+(e[+-]?\d+)?)$/i.test(s)) return Number(s);
    if (/^[+-]?(inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
    if (/^[+-]?nan$/i.test(s)) return NaN;
    throw valueError(`could not convert string to float: ${pyRepr(v)}`);
  }
  throw typeError(`float() argument must be a string or a real number, not '${typeName(v)}'`);
}

function toInt(v: unknown, base: number): number {
  if (typeof v === 'string') {
    let s = v
      .trim()
      .replace(/(?<=\w)_(?=\w)/g, '')
      .toLowerCase();
    let sign = 1;
    if (s.startsWith('-') || s.startsWith('+')) {
      if (s.startsWith('-')) sign = -1;
      s = s.slice(1);
    }
    let b = base;
    const prefixes: Record<string, number> = { '0x': 16, '0o': 8, '0b': 2 };
    const pre = s.slice(0, 2);
    if (prefixes[pre] && (b === prefixes[pre] || b === 0)) {
      b = prefixes[pre] as number;
      s = s.slice(2);
    }
    if (b === 0) b = 10;
    const digits = '0123456789abcdefghijklmnopqrstuvwxyz'.slice(0, b);
    if (!s || [...s].some((c) => !digits.includes(c)))
      throw valueError(`invalid literal for int() with base ${base}: ${pyRepr(v)}`);
    return sign * parseInt(s, b);
  }
  if (isNumeric(v)) {
    const n = num(v);
    if (!Number.isFinite(n)) throw new PyError('OverflowError', 'cannot convert float infinity to integer');
    return Math.trunc(n) || 0;
  }
  throw typeError(`int() argument must be a string, a bytes-like object or a real number, not '${typeName(v)}'`);
}

/** Python's round(x, n): round-half-even on the exact binary value. */
export function pyRound(x: number, precision: number): number {
  if (!Number.isFinite(x)) return x;
  if (precision < 0) {
    const f = 10 ** -precision;
    return pyRound(x / f, 0) * f;
  }
  if (Math.abs(x) >= 1e21) return x;
  const r = Number(fixedPy(Math.abs(x), precision));
  return x < 0 ? -r : r;
}

// --- JSON (tojson) --------------------------------------------------------------------------

function jsonStr(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    const code = s.charCodeAt(i);
    if (c === '"') out += '\\"';
    else if (c === '\\') out += '\\\\';
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (c === '\b') out += '\\b';
    else if (c === '\f') out += '\\f';
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += c;
  }
  return `${out}"`;
}

export function pyJsonDumps(v: unknown, indent: number | string | null, level = 0, sortKeys = true): string {
  const ind = indent === null ? null : typeof indent === 'string' ? indent : ' '.repeat(indent);
  const nl = (l: number): string => (ind === null ? '' : `\n${ind.repeat(l)}`);
  const itemSep = ind === null ? ', ' : ',';
  if (v === null) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (typeof v === 'string') return jsonStr(v);
  if (typeof v === 'number' || v instanceof PyFloat) {
    const n = num(v);
    if (Number.isNaN(n)) return 'NaN';
    if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
    return isFloat(v) ? floatRepr(n) : String(n);
  }
  if (Array.isArray(v)) {
    if (!v.length) return '[]';
    return `[${nl(level + 1)}${v.map((x) => pyJsonDumps(x, indent, level + 1, sortKeys)).join(itemSep + nl(level + 1))}${nl(level)}]`;
  }
  if (isMapping(v) || v instanceof Namespace) {
    let entries = v instanceof Namespace ? [...v.attrs.entries()] : mapEntries(v);
    entries = entries.map(([k, x]) => {
      if (typeof k === 'string') return [k, x];
      if (k === null) return ['null', x];
      if (typeof k === 'boolean') return [k ? 'true' : 'false', x];
      if (isNumeric(k)) return [pyStr(k), x];
      throw typeError(`keys must be str, int, float, bool or None, not ${typeName(k)}`);
    });
    if (sortKeys) entries.sort((a, b) => pyCmp(a[0], b[0]));
    if (!entries.length) return '{}';
    return `{${nl(level + 1)}${entries.map(([k, x]) => `${jsonStr(k as string)}: ${pyJsonDumps(x, indent, level + 1, sortKeys)}`).join(itemSep + nl(level + 1))}${nl(level)}}`;
  }
  throw typeError(`Object of type ${typeName(v)} is not JSON serializable`);
}

// --- textwrap (wordwrap) --------------------------------------------------------------------

function wrapLine(line: string, width: number, breakLong: boolean, breakOnHyphens: boolean): string[] {
  const chunkRe = breakOnHyphens ? /(\s+|[^\s\w]*\w+[^0-9\W]-(?=\w+[^0-9\W])|\S+)/gu : /(\s+|\S+)/g;
  const chunks = line.match(chunkRe) ?? [];
  const lines: string[] = [];
  let cur: string[] = [];
  let curLen = 0;
  const flush = (): void => {
    while (cur.length && /^\s+$/.test(cur[cur.length - 1] as string)) {
      curLen -= (cur.pop() as string).length;
    }
    if (cur.length) lines.push(cur.join(''));
    cur = [];
    curLen = 0;
  };
  const queue = [...chunks];
  while (queue.length) {
    if (cur.length === 0 && /^\s+$/.test(queue[0] as string) && lines.length) {
      queue.shift();
      continue;
    }
    const chunk = queue[0] as string;
    if (curLen + chunk.length <= width) {
      cur.push(chunk);
      curLen += chunk.length;
      queue.shift();
      continue;
    }
    if (chunk.length > width && cur.length === 0 && breakLong) {
      cur.push(chunk.slice(0, width));
      curLen = width;
      queue[0] = chunk.slice(width);
      flush();
      continue;
    }
    if (cur.length === 0) {
      cur.push(chunk);
      queue.shift();
    }
    flush();
  }
  flush();
  return lines;
}

// --- the filters ----------------------------------------------------------------------------

function aggregate(
  ctx: EvalContext,
  value: unknown,
  args: unknown[],
  kwargs: Record<string, unknown>,
  which: 'max' | 'min',
): unknown {
  const [caseSensitive, attribute] = bind(
    which,
    [
      ['case_sensitive', false],
      ['attribute', null],
    ],
    args,
    kwargs,
  );
  const items = pyIter(value);
  if (!items.length) return new Undefined(null, MISSING, 'No aggregated item, sequence was empty.');
  const key = attrGetter(ctx, attribute, caseSensitive ? null : ignoreCase);
  let best = items[0];
  let bestKey = key(best);
  for (const item of items.slice(1)) {
    const k = key(item);
    const c = pyCmp(k, bestKey);
    if (which === 'max' ? c > 0 : c < 0) {
      best = item;
      bestKey = k;
    }
  }
  return best;
}

async function selectOrReject(
  ctx: EvalContext,
  value: unknown,
  args: unknown[],
  kwargs: Record<string, unknown>,
  lookupAttr: boolean,
  accept: boolean,
): Promise<unknown[]> {
  let trans: (v: unknown) => unknown = (v) => v;
  let off = 0;
  if (lookupAttr) {
    if (args.length < 1) throw new PyError('FilterArgumentError', 'Missing parameter for attribute name');
    trans = attrGetter(ctx, args[0]);
    off = 1;
  }
  if (!truthyOf(value)) return [];
  const testName = args[off];
  const testArgs = args.slice(off + 1);
  const out: unknown[] = [];
  for (const item of pyIter(value)) {
    const v = trans(item);
    const ok = testName === undefined ? Boolean(truthyOf(v)) : await ctx.callTest(pyStr(testName), v, testArgs, kwargs);
    if (ok === accept) out.push(item);
  }
  return out;
}

function truthyOf(v: unknown): boolean {
  if (v === null || v === undefined || v instanceof Undefined || v === false) return false;
  if (typeof v === 'number') return v !== 0;
  if (v instanceof PyFloat) return v.value !== 0;
  if (typeof v === 'string' || Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  if (isMapping(v)) return Object.keys(v).length > 0;
  return true;
}

function groupTuple(grouper: unknown, list: unknown[]): unknown[] {
  const t = tuple([grouper, list]);
  Object.defineProperty(t, 'grouper', { value: grouper });
  Object.defineProperty(t, 'list', { value: list });
  return t;
}

function jinjaTitle(s: string): string {
  return s
    .split(/([-\s({[<]+)/)
    .filter((x) => x)
    .map((item) => {
      const cs = Array.from(item);
      return (cs[0] ?? '').toUpperCase() + cs.slice(1).join('').toLowerCase();
    })
    .join('');
}

export const BUILTIN_FILTERS: Record<string, JinjaFilter> = {
  abs: (v) => {
    if (!isNumeric(v)) throw typeError(`bad operand type for abs(): '${typeName(v)}'`);
    return isFloat(v) ? mkFloat(Math.abs(num(v))) : Math.abs(num(v));
  },
  attr: (v, args, kwargs, ctx) => {
    const [name] = bind('attr', [['name', REQUIRED]], args, kwargs);
    const n = pyStr(required('attr', name, 'name'));
    // Python getattr, not item lookup: a dict's keys are not attributes.
    if (v instanceof Map) return pyMethod(v, n, ctx) ?? new Undefined(n, v);
    if (isMapping(v)) {
      const own = Object.prototype.hasOwnProperty.call(v, n) ? (v as Record<string, unknown>)[n] : undefined;
      return typeof own === 'function' ? own : (pyMethod(v, n, ctx) ?? new Undefined(n, v));
    }
    return ctx.getattr(v, n);
  },
  batch: (v, args, kwargs) => {
    const [linecount, fill] = bind(
      'batch',
      [
        ['linecount', REQUIRED],
        ['fill_with', null],
      ],
      args,
      kwargs,
    );
    const n = num(required('batch', linecount, 'linecount'));
    const out: unknown[][] = [];
    let tmp: unknown[] = [];
    for (const item of pyIter(v)) {
      if (tmp.length === n) {
        out.push(tmp);
        tmp = [];
      }
      tmp.push(item);
    }
    if (tmp.length) {
      if (fill !== null && tmp.length < n) while (tmp.length < n) tmp.push(fill);
      out.push(tmp);
    }
    return out;
  },
  capitalize: (v) => {
    const cs = Array.from(pyStr(v));
    return cs.length ? (cs[0] as string).toUpperCase() + cs.slice(1).join('').toLowerCase() : '';
  },
  center: (v, args, kwargs) => {
    const [width] = bind('center', [['width', 80]], args, kwargs);
    const s = pyStr(v);
    const w = num(width);
    const len = Array.from(s).length;
    if (w <= len) return s;
    const padN = w - len;
    const left = Math.floor(padN / 2) + (padN & w & 1);
    return ' '.repeat(left) + s + ' '.repeat(padN - left);
  },
  default: (v, args, kwargs) => {
    const [dflt, boolean] = bind(
      'default',
      [
        ['default_value', ''],
        ['boolean', false],
      ],
      args,
      kwargs,
    );
    if (isUndef(v) || (truthyOf(boolean) && !truthyOf(v))) return dflt;
    return v;
  },
  dictsort: (v, args, kwargs) => {
    const [caseSensitive, by, reverse] = bind(
      'dictsort',
      [
        ['case_sensitive', false],
        ['by', 'key'],
        ['reverse', false],
      ],
      args,
      kwargs,
    );
    if (!isMapping(v)) throw typeError('dictsort expects a mapping');
    const pos = by === 'key' ? 0 : by === 'value' ? 1 : -1;
    if (pos < 0) throw new PyError('FilterArgumentError', 'You can only sort by either "key" or "value"');
    const items = mapEntries(v).map(([k, x]) => tuple([k, x]));
    return sortBy(
      items,
      (it) => {
        const x = (it as unknown[])[pos];
        return caseSensitive ? x : ignoreCase(x);
      },
      truthyOf(reverse),
    );
  },
  escape: (v) => htmlEscape(v),
  first: (v) => {
    if (isUndef(v)) return new Undefined(null, MISSING, 'No first item, sequence was empty.');
    const items = pyIter(v);
    return items.length ? items[0] : new Undefined(null, MISSING, 'No first item, sequence was empty.');
  },
  float: (v, args, kwargs) => {
    const [dflt] = bind('float', [['default', mkFloat(0)]], args, kwargs);
    if (v instanceof Undefined) v.fail();
    try {
      return mkFloat(toFloat(v));
    } catch (e) {
      if (e instanceof PyError) return dflt;
      throw e;
    }
  },
  forceescape: (v) => htmlEscape(v),
  format: (v, args, kwargs) => {
    if (args.length && Object.keys(kwargs).length)
      throw new PyError('FilterArgumentError', "can't handle positional and keyword arguments at the same time");
    const fmtArgs = Object.keys(kwargs).length ? new Map(Object.entries(kwargs)) : tuple([...args]);
    return percentFormat(pyStr(v), fmtArgs);
  },
  groupby: (v, args, kwargs, ctx) => {
    const [attribute, dflt, caseSensitive] = bind(
      'groupby',
      [
        ['attribute', REQUIRED],
        ['default', null],
        ['case_sensitive', false],
      ],
      args,
      kwargs,
    );
    required('groupby', attribute, 'attribute');
    const key = attrGetter(ctx, attribute, caseSensitive ? null : ignoreCase, dflt);
    const sorted = sortBy(pyIter(v), key, false);
    const groups: { k: unknown; items: unknown[] }[] = [];
    for (const item of sorted) {
      const k = key(item);
      const last = groups[groups.length - 1];
      if (last && pyEq(last.k, k)) last.items.push(item);
      else groups.push({ k, items: [item] });
    }
    const out = caseSensitive ? null : attrGetter(ctx, attribute, null, dflt);
    return groups.map((g) => groupTuple(out ? out(g.items[0]) : g.k, g.items));
  },
  indent: (v, args, kwargs) => {
    const [width, first, blank] = bind(
      'indent',
      [
        ['width', 4],
        ['first', false],
        ['blank', false],
      ],
      args,
      kwargs,
    );
    const indention = typeof width === 'string' ? width : ' '.repeat(num(width));
    if (v instanceof Undefined) v.fail();
    if (typeof v !== 'string') {
      if (Array.isArray(v))
        throw new PyError('AttributeError', `'${typeName(v)}' object has no attribute 'splitlines'`);
      throw typeError(`unsupported operand type(s) for +=: '${typeName(v)}' and 'str'`);
    }
    const s = `${v}\n`;
    const lines = splitLines(s);
    let rv: string;
    if (truthyOf(blank)) rv = lines.join(`\n${indention}`);
    else {
      rv = lines.shift() ?? '';
      if (lines.length) rv += `\n${lines.map((l) => (l ? indention + l : l)).join('\n')}`;
    }
    if (truthyOf(first)) rv = indention + rv;
    return rv;
  },
  int: (v, args, kwargs) => {
    const [dflt, base] = bind(
      'int',
      [
        ['default', 0],
        ['base', 10],
      ],
      args,
      kwargs,
    );
    if (v instanceof Undefined) v.fail();
    try {
      return toInt(v, num(base));
    } catch (e) {
      if (!(e instanceof PyError)) throw e;
      try {
        return toInt(toFloat(v), 10);
      } catch (e2) {
        if (e2 instanceof PyError) return dflt;
        throw e2;
      }
    }
  },
  items: (v) => {
    if (isUndef(v)) return [];
    if (isMapping(v)) return mapEntries(v).map(([k, x]) => tuple([k, x]));
    throw typeError('Can only get item pairs from a mapping.');
  },
  join: (v, args, kwargs, ctx) => {
    const [d, attribute] = bind(
      'join',
      [
        ['d', ''],
        ['attribute', null],
      ],
      args,
      kwargs,
    );
    let items = pyIter(v);
    if (attribute !== null) items = items.map(attrGetter(ctx, attribute));
    return items.map((x) => pyStr(x)).join(pyStr(d));
  },
  last: (v) => {
    const items = isMapping(v) ? pyIter(v) : pyIter(v);
    return items.length ? items[items.length - 1] : new Undefined(null, MISSING, 'No last item, sequence was empty.');
  },
  length: (v) => pyLen(v),
  list: (v) => [...pyIter(v)],
  lower: (v) => pyStr(v).toLowerCase(),
  map: async (v, args, kwargs, ctx) => {
    if (!truthyOf(v)) return [];
    const items = pyIter(v);
    if (args.length === 0 && Object.prototype.hasOwnProperty.call(kwargs, 'attribute')) {
      const { attribute, default: dflt, ...rest } = kwargs;
      if (Object.keys(rest).length)
        throw new PyError('FilterArgumentError', `Unexpected keyword argument ${pyRepr(Object.keys(rest)[0])}`);
      const g = attrGetter(ctx, attribute, null, dflt ?? null);
      return items.map(g);
    }
    if (args.length === 0) throw new PyError('FilterArgumentError', 'map requires a filter argument');
    const name = pyStr(args[0]);
    const out: unknown[] = [];
    for (const item of items) out.push(await ctx.callFilter(name, item, args.slice(1), kwargs));
    return out;
  },
  max: (v, args, kwargs, ctx) => aggregate(ctx, v, args, kwargs, 'max'),
  min: (v, args, kwargs, ctx) => aggregate(ctx, v, args, kwargs, 'min'),
  // pprint.pformat sorts dict keys (long values are not wrapped here).
  pprint: (v) => pyRepr(v, new Set(), true),
  reject: (v, args, kwargs, ctx) => selectOrReject(ctx, v, args, kwargs, false, false),
  rejectattr: (v, args, kwargs, ctx) => selectOrReject(ctx, v, args, kwargs, true, false),
  replace: (v, args, kwargs) => {
    const [old, nw, count] = bind(
      'replace',
      [
        ['old', REQUIRED],
        ['new', REQUIRED],
        ['count', null],
      ],
      args,
      kwargs,
    );
    const s = pyStr(v);
    const o = pyStr(required('replace', old, 'old'));
    const n = pyStr(required('replace', nw, 'new'));
    if (count === null) return s.split(o).join(n);
    let out = '';
    let rest = s;
    for (let i = 0; i < num(count); i++) {
      const idx = rest.indexOf(o);
      if (idx < 0) break;
      out += rest.slice(0, idx) + n;
      rest = rest.slice(idx + o.length);
    }
    return out + rest;
  },
  reverse: (v) => {
    if (typeof v === 'string') return Array.from(v).reverse().join('');
    return [...pyIter(v)].reverse();
  },
  round: (v, args, kwargs) => {
    const [precision, method] = bind(
      'round',
      [
        ['precision', 0],
        ['method', 'common'],
      ],
      args,
      kwargs,
    );
    const p = num(precision);
    if (method === 'common') {
      if (isInt(v) || typeof v === 'boolean') {
        return p >= 0 ? num(v) : pyRound(num(v), p);
      }
      return mkFloat(pyRound(num(v), p));
    }
    if (method !== 'ceil' && method !== 'floor')
      throw new PyError('FilterArgumentError', 'method must be common, ceil or floor');
    const f = 10 ** p;
    const fn = method === 'ceil' ? Math.ceil : Math.floor;
    return mkFloat(fn(num(v) * f) / f);
  },
  safe: (v) => v,
  select: (v, args, kwargs, ctx) => selectOrReject(ctx, v, args, kwargs, false, true),
  selectattr: (v, args, kwargs, ctx) => selectOrReject(ctx, v, args, kwargs, true, true),
  slice: (v, args, kwargs) => {
    const [slices, fill] = bind(
      'slice',
      [
        ['slices', REQUIRED],
        ['fill_with', null],
      ],
      args,
      kwargs,
    );
    const seq = [...pyIter(v)];
    const n = num(required('slice', slices, 'slices'));
    const per = Math.floor(seq.length / n);
    const extra = seq.length % n;
    let offset = 0;
    const out: unknown[][] = [];
    for (let i = 0; i < n; i++) {
      const start = offset + i * per;
      if (i < extra) offset++;
      const end = offset + (i + 1) * per;
      const tmp = seq.slice(start, end);
      if (fill !== null && i >= extra) tmp.push(fill);
      out.push(tmp);
    }
    return out;
  },
  sort: (v, args, kwargs, ctx) => {
    const [reverse, caseSensitive, attribute] = bind(
      'sort',
      [
        ['reverse', false],
        ['case_sensitive', false],
        ['attribute', null],
      ],
      args,
      kwargs,
    );
    const key = multiAttrGetter(
      ctx,
      attribute,
      caseSensitive ? null : (x) => (Array.isArray(x) ? x.map(ignoreCase) : ignoreCase(x)),
    );
    return sortBy([...pyIter(v)], key, truthyOf(reverse));
  },
  string: (v) => pyStr(v),
  striptags: (v) => {
    const s = pyStr(v)
      .replace(/<!--.*?-->/gs, '')
      .replace(/<.*?>/gs, '');
    return unescapeHtml(
      s
        .split(/\s+/)
        .filter((x) => x)
        .join(' '),
    );
  },
  sum: (v, args, kwargs, ctx) => {
    const [attribute, start] = bind(
      'sum',
      [
        ['attribute', null],
        ['start', 0],
      ],
      args,
      kwargs,
    );
    let items = pyIter(v);
    if (attribute !== null) items = items.map(attrGetter(ctx, attribute));
    let acc: unknown = start;
    for (const x of items) acc = pyAdd(acc, x);
    return acc;
  },
  title: (v) => jinjaTitle(pyStr(v)),
  tojson: (v, args, kwargs) => {
    const [indent] = bind('tojson', [['indent', null]], args, kwargs);
    const s = pyJsonDumps(v, indent === null ? null : typeof indent === 'string' ? indent : num(indent));
    return s.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/'/g, '\\u0027');
  },
  trim: (v, args, kwargs) => {
    const [chars] = bind('trim', [['chars', null]], args, kwargs);
    const s = pyStr(v);
    if (chars === null) return s.replace(/^\s+|\s+$/g, '');
    const set = pyStr(chars);
    const cs = Array.from(s);
    let a = 0;
    let b = cs.length;
    while (a < b && set.includes(cs[a] as string)) a++;
    while (b > a && set.includes(cs[b - 1] as string)) b--;
    return cs.slice(a, b).join('');
  },
  truncate: (v, args, kwargs) => {
    const [length, killwords, end, leeway] = bind(
      'truncate',
      [
        ['length', 255],
        ['killwords', false],
        ['end', '...'],
        ['leeway', null],
      ],
      args,
      kwargs,
    );
    if (typeof v !== 'string') {
      // Jinja2 measures the value itself: short sequences come back unchanged, numbers fail.
      if (v instanceof Undefined || pyLen(v) <= num(length) + (leeway === null ? 5 : num(leeway))) return v;
      throw typeError(`'${typeName(v)}' object is not a string`);
    }
    const s = v;
    const cs = Array.from(s);
    const len = num(length);
    const e = pyStr(end);
    const lw = leeway === null ? 5 : num(leeway);
    if (len < e.length) throw new PyError('AssertionError', 'expected length >= len(end)');
    if (cs.length <= len + lw) return s;
    const head = cs.slice(0, len - e.length).join('');
    if (truthyOf(killwords)) return head + e;
    const i = head.lastIndexOf(' ');
    return (i >= 0 ? head.slice(0, i) : head) + e;
  },
  unique: (v, args, kwargs, ctx) => {
    const [caseSensitive, attribute] = bind(
      'unique',
      [
        ['case_sensitive', false],
        ['attribute', null],
      ],
      args,
      kwargs,
    );
    const key = attrGetter(ctx, attribute, caseSensitive ? null : ignoreCase);
    const seen: unknown[] = [];
    const out: unknown[] = [];
    for (const item of pyIter(v)) {
      const k = key(item);
      if (!seen.some((s) => pyEq(s, k))) {
        seen.push(k);
        out.push(item);
      }
    }
    return out;
  },
  upper: (v) => pyStr(v).toUpperCase(),
  urlencode: (v) => {
    const enc = (s: unknown): string =>
      encodeURIComponent(pyStr(s))
        .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
        .replace(/%2F/g, '/');
    if (typeof v === 'string') return enc(v);
    const pairs = isMapping(v)
      ? mapEntries(v)
      : (pyIter(v) as unknown[][]).map((p) => [p[0], p[1]] as [unknown, unknown]);
    return pairs.map(([k, x]) => `${enc(k).replace(/\//g, '%2F')}=${enc(x).replace(/\//g, '%2F')}`).join('&');
  },
  wordcount: (v) => (pyStr(v).match(/[\p{L}\p{N}_]+/gu) ?? []).length,
  wordwrap: (v, args, kwargs) => {
    const [width, breakLong, wrapstring, breakOnHyphens] = bind(
      'wordwrap',
      [
        ['width', 79],
        ['break_long_words', true],
        ['wrapstring', null],
        ['break_on_hyphens', true],
      ],
      args,
      kwargs,
    );
    const ws = wrapstring === null ? '\n' : pyStr(wrapstring);
    return splitLines(pyStr(v))
      .map((line) => wrapLine(line, num(width), truthyOf(breakLong), truthyOf(breakOnHyphens)).join(ws))
      .join(ws);
  },
  xmlattr: (v, args, kwargs) => {
    const [autospace] = bind('xmlattr', [['autospace', true]], args, kwargs);
    if (!isMapping(v)) throw typeError('xmlattr expects a mapping');
    const items: string[] = [];
    for (const [k, x] of mapEntries(v)) {
      if (x === null || isUndef(x)) continue;
      const key = pyStr(k);
      if (/[\s/>=]/.test(key)) throw valueError(`Invalid character in attribute name: ${pyRepr(key)}`);
      items.push(`${htmlEscape(key)}="${htmlEscape(x)}"`);
    }
    const rv = items.join(' ');
    return truthyOf(autospace) && rv ? ` ${rv}` : rv;
  },
  filesizeformat: (v, args, kwargs) => {
    const [binary] = bind('filesizeformat', [['binary', false]], args, kwargs);
    const bytes = toFloat(v);
    const base = truthyOf(binary) ? 1024 : 1000;
    const prefixes = truthyOf(binary)
      ? ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB']
      : ['kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
    if (bytes === 1) return '1 Byte';
    if (bytes < base) return `${Math.trunc(bytes)} Bytes`;
    let unit = base;
    let prefix = prefixes[0] as string;
    for (let i = 0; i < prefixes.length; i++) {
      unit = base ** (i + 2);
      prefix = prefixes[i] as string;
      if (bytes < unit) break;
    }
    return `${applyFormatSpec(mkFloat((base * bytes) / unit), '.1f')} ${prefix}`;
  },
};
BUILTIN_FILTERS.e = BUILTIN_FILTERS.escape as JinjaFilter;
BUILTIN_FILTERS.d = BUILTIN_FILTERS.default as JinjaFilter;
BUILTIN_FILTERS.count = BUILTIN_FILTERS.length as JinjaFilter;

function splitLines(s: string): string[] {
  // Python's str.splitlines boundaries (incl. the \x1c-\x1e separators).
  // eslint-disable-next-line no-control-regex
  const parts = s.split(/\r\n|\n|\r|\v|\f|\x1c|\x1d|\x1e|\x85|\u2028|\u2029/);
  if (parts.length && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

function unescapeHtml(s: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };
  return s.replace(/&(#x[\da-fA-F]+|#\d+|\w+);/g, (m, e: string) => {
    if (e.startsWith('#x') || e.startsWith('#X')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return named[e] ?? m;
  });
}
