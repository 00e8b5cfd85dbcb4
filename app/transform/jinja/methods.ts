/**
 * Python methods of str / list / tuple / dict values (`'a'.upper()`, `l.append(x)`,
 * `d.get(k, default)`…), as used by dbt projects.
 */
import { PyError, typeError, valueError } from './errors';
import {
  type JinjaCallable,
  Undefined,
  callable,
  isMapping,
  isNumeric,
  isTuple,
  mapDelete,
  mapEntries,
  mapGet,
  mapHas,
  mapKeys,
  mapSet,
  num,
  pyCmp,
  pyEq,
  pyIter,
  pyRepr,
  pyStr,
  strFormat,
  tuple,
  typeName,
  view,
} from './values';

export interface MethodContext {
  getattr(obj: unknown, name: string): unknown;
  getitem(obj: unknown, key: unknown): unknown;
  call(fn: unknown, args: unknown[], kwargs?: Record<string, unknown>): Promise<unknown>;
}

function arg(args: unknown[], kwargs: Record<string, unknown>, i: number, name: string, dflt: unknown): unknown {
  if (i < args.length) return args[i];
  if (Object.prototype.hasOwnProperty.call(kwargs, name)) return kwargs[name];
  return dflt;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw typeError(`${what} must be str, not ${typeName(v)}`);
  return v;
}

// Python's str.strip() whitespace includes the \x1c-\x1f separators.
// eslint-disable-next-line no-control-regex
const WS = /[\s\x1c-\x1f\x85]/u;

function stripChars(s: string, chars: unknown, left: boolean, right: boolean): string {
  const set = chars === null || chars === undefined || chars instanceof Undefined ? null : str(chars, 'strip arg');
  const isStrip = (c: string): boolean => (set === null ? WS.test(c) : set.includes(c));
  const cs = Array.from(s);
  let a = 0;
  let b = cs.length;
  if (left) while (a < b && isStrip(cs[a] as string)) a++;
  if (right) while (b > a && isStrip(cs[b - 1] as string)) b--;
  return cs.slice(a, b).join('');
}

function pySplit(s: string, sepV: unknown, maxV: unknown): string[] {
  const max = maxV === null || maxV === undefined ? -1 : num(maxV);
  if (sepV === null || sepV === undefined || sepV instanceof Undefined) {
    const out: string[] = [];
    let rest = s.replace(/^\s+/, '');
    while (rest.length) {
      if (max >= 0 && out.length >= max) {
        out.push(rest);
        break;
      }
      const m = /\s+/.exec(rest);
      if (!m) {
        out.push(rest);
        break;
      }
      out.push(rest.slice(0, m.index));
      rest = rest.slice(m.index + m[0].length);
    }
    return out;
  }
  const sep = str(sepV, 'sep');
  if (sep === '') throw valueError('empty separator');
  const parts = s.split(sep);
  if (max < 0 || parts.length <= max + 1) return parts;
  return [...parts.slice(0, max), parts.slice(max).join(sep)];
}

function pyRsplit(s: string, sepV: unknown, maxV: unknown): string[] {
  const max = maxV === null || maxV === undefined ? -1 : num(maxV);
  if (max < 0) return pySplit(s, sepV, -1);
  if (sepV === null || sepV === undefined) {
    const rev = pySplit(Array.from(s).reverse().join(''), null, max);
    return rev.map((p) => Array.from(p).reverse().join('')).reverse();
  }
  const sep = str(sepV, 'sep');
  const parts = s.split(sep);
  if (parts.length <= max + 1) return parts;
  const cut = parts.length - max;
  return [parts.slice(0, cut).join(sep), ...parts.slice(cut)];
}

function title(s: string): string {
  let out = '';
  let prevCased = false;
  for (const c of s) {
    const cased = c.toLowerCase() !== c.toUpperCase();
    out += cased ? (prevCased ? c.toLowerCase() : c.toUpperCase()) : c;
    prevCased = cased;
  }
  return out;
}

function capitalize(s: string): string {
  const cs = Array.from(s);
  if (!cs.length) return s;
  return (cs[0] as string).toUpperCase() + cs.slice(1).join('').toLowerCase();
}

function prefixes(v: unknown): string[] {
  if (isTuple(v)) return (v as unknown[]).map((x) => str(x, 'startswith arg'));
  if (typeof v === 'string') return [v];
  throw typeError(`startswith first arg must be str or a tuple of str, not ${typeName(v)}`);
}

function rangeArgs(s: string, startV: unknown, endV: unknown): string {
  const cs = Array.from(s);
  const norm = (v: unknown, d: number): number => {
    if (v === null || v === undefined) return d;
    let i = num(v);
    if (i < 0) i = Math.max(0, i + cs.length);
    return Math.min(i, cs.length);
  };
  return cs.slice(norm(startV, 0), norm(endV, cs.length)).join('');
}

function countSub(s: string, sub: string): number {
  if (sub === '') return Array.from(s).length + 1;
  let n = 0;
  for (let i = s.indexOf(sub); i !== -1; i = s.indexOf(sub, i + sub.length)) n++;
  return n;
}

function cpIndex(s: string, unitIndex: number): number {
  return unitIndex < 0 ? -1 : Array.from(s.slice(0, unitIndex)).length;
}

function strMethod(s: string, name: string, ctx: MethodContext): JinjaCallable | null {
  switch (name) {
    case 'lower':
      return callable(() => s.toLowerCase());
    case 'upper':
      return callable(() => s.toUpperCase());
    case 'casefold':
      return callable(() => s.toLowerCase());
    case 'swapcase':
      return callable(() =>
        Array.from(s)
          .map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()))
          .join(''),
      );
    case 'strip':
      return callable((a, k) => stripChars(s, arg(a, k, 0, 'chars', null), true, true));
    case 'lstrip':
      return callable((a, k) => stripChars(s, arg(a, k, 0, 'chars', null), true, false));
    case 'rstrip':
      return callable((a, k) => stripChars(s, arg(a, k, 0, 'chars', null), false, true));
    case 'split':
      return callable((a, k) => pySplit(s, arg(a, k, 0, 'sep', null), arg(a, k, 1, 'maxsplit', -1)));
    case 'rsplit':
      return callable((a, k) => pyRsplit(s, arg(a, k, 0, 'sep', null), arg(a, k, 1, 'maxsplit', -1)));
    case 'splitlines':
      return callable((a, k) => {
        const keep = Boolean(arg(a, k, 0, 'keepends', false));
        const parts = s.match(/[^\n\r]*(?:\r\n|\n|\r|$)/g) ?? [];
        const out = parts
          .filter((p, i) => p !== '' || i < parts.length - 1)
          .map((p) => (keep ? p : p.replace(/(\r\n|\n|\r)$/, '')));
        return out.length && out[out.length - 1] === '' && !keep ? out.slice(0, -1) : out;
      });
    case 'replace':
      return callable((a, k) => {
        const old = str(arg(a, k, 0, 'old', undefined), 'replace() argument 1');
        const rep = str(arg(a, k, 1, 'new', undefined), 'replace() argument 2');
        const count = num(arg(a, k, 2, 'count', -1));
        if (count < 0) return s.split(old).join(rep);
        let out = s;
        let from = 0;
        for (let n = 0; n < count; n++) {
          const i = out.indexOf(old, from);
          if (i === -1) break;
          out = out.slice(0, i) + rep + out.slice(i + old.length);
          from = i + rep.length + (old === '' ? 1 : 0);
        }
        return out;
      });
    case 'startswith':
      return callable((a, k) => {
        const sub = rangeArgs(s, arg(a, k, 1, 'start', null), arg(a, k, 2, 'end', null));
        return prefixes(arg(a, k, 0, 'prefix', undefined)).some((p) => sub.startsWith(p));
      });
    case 'endswith':
      return callable((a, k) => {
        const sub = rangeArgs(s, arg(a, k, 1, 'start', null), arg(a, k, 2, 'end', null));
        return prefixes(arg(a, k, 0, 'suffix', undefined)).some((p) => sub.endsWith(p));
      });
    case 'removeprefix':
      return callable((a) => {
        const p = str(a[0], 'removeprefix arg');
        return p && s.startsWith(p) ? s.slice(p.length) : s;
      });
    case 'removesuffix':
      return callable((a) => {
        const p = str(a[0], 'removesuffix arg');
        return p && s.endsWith(p) ? s.slice(0, -p.length) : s;
      });
    case 'format':
      return callable((a, k) =>
        strFormat(
          s,
          a,
          k,
          (o, n) => ctx.getattr(o, n),
          (o, key) => ctx.getitem(o, key),
        ),
      );
    case 'join':
      return callable((a) => {
        const items = pyIter(a[0]);
        return items
          .map((x, i) => {
            if (typeof x !== 'string')
              throw typeError(`sequence item ${i}: expected str instance, ${typeName(x)} found`);
            return x;
          })
          .join(s);
      });
    case 'title':
      return callable(() => title(s));
    case 'capitalize':
      return callable(() => capitalize(s));
    case 'find':
    case 'index':
    case 'rfind':
    case 'rindex':
      return callable((a, k) => {
        const sub = str(a[0], 'substring');
        const startV = arg(a, k, 1, 'start', null);
        const offset =
          startV === null ? 0 : Math.max(0, num(startV) < 0 ? num(startV) + Array.from(s).length : num(startV));
        const hay = rangeArgs(s, startV, arg(a, k, 2, 'end', null));
        const u = name.startsWith('r') ? hay.lastIndexOf(sub) : hay.indexOf(sub);
        const i = u < 0 ? -1 : cpIndex(hay, u) + offset;
        if (i < 0 && name.endsWith('index')) throw valueError('substring not found');
        return i;
      });
    case 'count':
      return callable((a, k) =>
        countSub(rangeArgs(s, arg(a, k, 1, 'start', null), arg(a, k, 2, 'end', null)), str(a[0], 'count arg')),
      );
    case 'isdigit':
    case 'isnumeric':
    case 'isdecimal':
      return callable(() => s.length > 0 && /^\p{Nd}+$/u.test(s));
    case 'isalpha':
      return callable(() => s.length > 0 && /^\p{L}+$/u.test(s));
    case 'isalnum':
      return callable(() => s.length > 0 && /^[\p{L}\p{N}]+$/u.test(s));
    case 'isspace':
      return callable(() => s.length > 0 && /^\s+$/.test(s));
    case 'islower':
      return callable(() => /\p{Ll}/u.test(s) && s === s.toLowerCase());
    case 'isupper':
      return callable(() => /\p{Lu}/u.test(s) && s === s.toUpperCase());
    case 'istitle':
      return callable(() => /\p{L}/u.test(s) && title(s) === s);
    case 'zfill':
      return callable((a) => {
        const w = num(a[0]);
        const sign = /^[+-]/.test(s) ? (s[0] as string) : '';
        const body = s.slice(sign.length);
        return sign + body.padStart(Math.max(0, w - sign.length), '0');
      });
    case 'center':
    case 'ljust':
    case 'rjust':
      return callable((a, k) => {
        const w = num(arg(a, k, 0, 'width', 0));
        const fill = str(arg(a, k, 1, 'fillchar', ' '), 'fillchar');
        const len = Array.from(s).length;
        if (w <= len) return s;
        const padN = w - len;
        if (name === 'ljust') return s + fill.repeat(padN);
        if (name === 'rjust') return fill.repeat(padN) + s;
        const left = Math.floor(padN / 2) + (padN & w & 1);
        return fill.repeat(left) + s + fill.repeat(padN - left);
      });
    case 'partition':
    case 'rpartition':
      return callable((a) => {
        const sep = str(a[0], 'sep');
        const i = name === 'partition' ? s.indexOf(sep) : s.lastIndexOf(sep);
        if (i < 0) return name === 'partition' ? tuple([s, '', '']) : tuple(['', '', s]);
        return tuple([s.slice(0, i), sep, s.slice(i + sep.length)]);
      });
    case 'encode':
      return callable(() => s);
    default:
      return null;
  }
}

function listMethod(l: unknown[], name: string, ctx: MethodContext): JinjaCallable | null {
  const ro = isTuple(l);
  switch (name) {
    case 'count':
      return callable((a) => l.filter((x) => pyEq(x, a[0])).length);
    case 'index':
      return callable((a) => {
        const i = l.findIndex((x) => pyEq(x, a[0]));
        if (i < 0) throw valueError(`${pyRepr(a[0])} is not in ${ro ? 'tuple' : 'list'}`);
        return i;
      });
  }
  if (ro) return null;
  switch (name) {
    case 'append':
      return callable((a) => {
        l.push(a[0]);
        return null;
      });
    case 'extend':
      return callable((a) => {
        l.push(...pyIter(a[0]));
        return null;
      });
    case 'insert':
      return callable((a) => {
        let i = num(a[0]);
        if (i < 0) i = Math.max(0, i + l.length);
        l.splice(Math.min(i, l.length), 0, a[1]);
        return null;
      });
    case 'pop':
      return callable((a) => {
        if (l.length === 0) throw new PyError('IndexError', 'pop from empty list');
        let i = a.length ? num(a[0]) : l.length - 1;
        if (i < 0) i += l.length;
        if (i < 0 || i >= l.length) throw new PyError('IndexError', 'pop index out of range');
        return l.splice(i, 1)[0];
      });
    case 'remove':
      return callable((a) => {
        const i = l.findIndex((x) => pyEq(x, a[0]));
        if (i < 0) throw valueError('list.remove(x): x not in list');
        l.splice(i, 1);
        return null;
      });
    case 'reverse':
      return callable(() => {
        l.reverse();
        return null;
      });
    case 'clear':
      return callable(() => {
        l.length = 0;
        return null;
      });
    case 'copy':
      return callable(() => [...l]);
    case 'sort':
      return callable(async (a, k) => {
        if (a.length) throw typeError('sort() takes no positional arguments');
        const key = k.key;
        const reverse = Boolean(k.reverse);
        const keyed: { v: unknown; k: unknown }[] = [];
        for (const v of l) keyed.push({ v, k: key === undefined || key === null ? v : await ctx.call(key, [v]) });
        keyed.sort((x, y) => pyCmp(x.k, y.k));
        if (reverse) stableReverse(keyed, (x, y) => pyCmp(x.k, y.k) === 0);
        l.splice(0, l.length, ...keyed.map((x) => x.v));
        return null;
      });
    default:
      return null;
  }
}

/** Python's `reverse=True` keeps equal elements in their original order. */
function stableReverse<T>(arr: T[], eq: (a: T, b: T) => boolean): void {
  arr.reverse();
  let i = 0;
  while (i < arr.length) {
    let j = i + 1;
    while (j < arr.length && eq(arr[i] as T, arr[j] as T)) j++;
    if (j - i > 1) {
      const run = arr.slice(i, j).reverse();
      arr.splice(i, j - i, ...run);
    }
    i = j;
  }
}

export { stableReverse };

function dictMethod(d: Map<unknown, unknown> | Record<string, unknown>, name: string): JinjaCallable | null {
  switch (name) {
    case 'get':
      return callable((a, k) => {
        const key = a[0];
        const dflt = arg(a, k, 1, 'default', null);
        if (!mapHas(d, key)) return dflt;
        const v = mapGet(d, key);
        return v === undefined ? dflt : v;
      });
    case 'items':
      return callable(() =>
        view(
          'dict_items',
          mapEntries(d).map(([k, v]) => tuple([k, v])),
        ),
      );
    case 'keys':
      return callable(() => view('dict_keys', mapKeys(d)));
    case 'values':
      return callable(() =>
        view(
          'dict_values',
          mapEntries(d).map(([, v]) => v),
        ),
      );
    case 'update':
      return callable((a, k) => {
        if (a.length) {
          const src = a[0];
          if (isMapping(src)) for (const [kk, v] of mapEntries(src)) mapSet(d, kk, v);
          else {
            for (const pair of pyIter(src)) {
              const p = pyIter(pair);
              if (p.length !== 2) throw valueError('dictionary update sequence element has wrong length');
              mapSet(d, p[0], p[1]);
            }
          }
        }
        for (const [kk, v] of Object.entries(k)) mapSet(d, kk, v);
        return null;
      });
    case 'pop':
      return callable((a) => {
        const key = a[0];
        if (mapHas(d, key)) {
          const v = mapGet(d, key);
          mapDelete(d, key);
          return v;
        }
        if (a.length > 1) return a[1];
        throw new PyError('KeyError', pyRepr(key));
      });
    case 'popitem':
      return callable(() => {
        const entries = mapEntries(d);
        const last = entries[entries.length - 1];
        if (!last) throw new PyError('KeyError', "'popitem(): dictionary is empty'");
        mapDelete(d, last[0]);
        return tuple([last[0], last[1]]);
      });
    case 'setdefault':
      return callable((a) => {
        const key = a[0];
        if (mapHas(d, key)) return mapGet(d, key);
        const v = a.length > 1 ? a[1] : null;
        mapSet(d, key, v);
        return v;
      });
    case 'copy':
      return callable(() => (d instanceof Map ? new Map(d) : { ...d }));
    case 'clear':
      return callable(() => {
        for (const k of mapKeys(d)) mapDelete(d, k);
        return null;
      });
    default:
      return null;
  }
}

function numberMethod(n: unknown, name: string): JinjaCallable | null {
  if (name === 'is_integer') return callable(() => Number.isInteger(num(n)));
  return null;
}

/** A bound Python method of `obj`, or null when the type has no such method. */
export function pyMethod(obj: unknown, name: string, ctx: MethodContext): JinjaCallable | null {
  if (typeof obj === 'string') return strMethod(obj, name, ctx);
  if (Array.isArray(obj)) return listMethod(obj, name, ctx);
  if (isMapping(obj)) return dictMethod(obj, name);
  if (isNumeric(obj)) return numberMethod(obj, name);
  return null;
}

export { pyStr };
