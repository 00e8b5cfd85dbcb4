/**
 * Python value semantics for template values.
 *
 * Representation (chosen so JS values from the dbt layer work unchanged):
 *  - None → `null` (JS `undefined` reaching a template is treated as Undefined);
 *  - bool → boolean; str → string;
 *  - int → an integral JS number; float → a non-integral JS number, or a `PyFloat` box when the
 *    float has an integral value (Python prints `1.0`, not `1`);
 *  - list → Array; tuple → Array marked with `TUPLE` (see `tuple()`);
 *  - dict → `Map` for dicts built by templates (any key type, insertion order); plain JS objects
 *    from the context are read as dicts too;
 *  - other class instances are Python "objects": attributes are their properties and methods.
 */
import { PyError, typeError, undefinedError, valueError } from './errors';

// ---------------------------------------------------------------------------------------------
// Callables

export const JINJA_CALLABLE: unique symbol = Symbol.for('cht.jinja.callable');

/** A callable from templates: receives positional and keyword arguments; may return a Promise. */
export type JinjaCallable = ((args: unknown[], kwargs: Record<string, unknown>) => unknown) & {
  readonly [JINJA_CALLABLE]: true;
};

/** Marks a function as a Jinja callable (called with `(args, kwargs)`). */
export function callable(fn: (args: unknown[], kwargs: Record<string, unknown>) => unknown): JinjaCallable {
  const f = fn as JinjaCallable;
  Object.defineProperty(f, JINJA_CALLABLE, { value: true });
  return f;
}

export function isJinjaCallable(v: unknown): v is JinjaCallable {
  return typeof v === 'function' && (v as Partial<JinjaCallable>)[JINJA_CALLABLE] === true;
}

// ---------------------------------------------------------------------------------------------
// Special values

export const None = null;

/** Jinja2's default `Undefined`: prints as '', is falsy, iterates as empty; most other uses raise. */
export class Undefined {
  constructor(
    readonly undefinedName: string | number | null = null,
    /** The object the lookup failed on (`MISSING` when the name itself was not found). */
    readonly undefinedObj: unknown = MISSING,
    readonly hint: string | null = null,
  ) {}

  message(): string {
    if (this.hint !== null) return this.hint;
    if (this.undefinedObj === MISSING) return `${pyRepr(this.undefinedName)} is undefined`;
    if (typeof this.undefinedName !== 'string') {
      return `${pyRepr(objectTypeRepr(this.undefinedObj))} has no element ${pyRepr(this.undefinedName)}`;
    }
    return `${pyRepr(objectTypeRepr(this.undefinedObj))} has no attribute ${pyRepr(this.undefinedName)}`;
  }

  fail(): never {
    throw undefinedError(this.message());
  }

  toString(): string {
    return '';
  }
}

export const MISSING: unique symbol = Symbol('missing');

/** A Python float whose value is integral (a plain JS number would print as an int). */
export class PyFloat {
  constructor(readonly value: number) {}
  valueOf(): number {
    return this.value;
  }
  toString(): string {
    return floatRepr(this.value);
  }
}

export const TUPLE: unique symbol = Symbol.for('cht.jinja.tuple');

export function tuple(items: unknown[]): unknown[] {
  Object.defineProperty(items, TUPLE, { value: true });
  return items;
}

export const VIEW: unique symbol = Symbol.for('cht.jinja.view');

/** A list that prints like a Python dict view / range (`dict_items([...])`, `range(0, 3)`). */
export function view(kind: string, items: unknown[]): unknown[] {
  Object.defineProperty(items, VIEW, { value: kind });
  return items;
}

export function isTuple(v: unknown): boolean {
  return Array.isArray(v) && (v as unknown as Record<symbol, unknown>)[TUPLE] === true;
}

/** `namespace()`: the one object templates may assign attributes to. */
export class Namespace {
  readonly attrs = new Map<string, unknown>();
}

/** `cycler(...)` */
export class Cycler {
  private pos = 0;
  constructor(readonly items: unknown[]) {
    if (items.length === 0) throw new PyError('RuntimeError', 'at least one item has to be provided');
  }
  get current(): unknown {
    return this.items[this.pos];
  }
  next = callable(() => {
    const v = this.items[this.pos];
    this.pos = (this.pos + 1) % this.items.length;
    return v;
  });
  reset = callable(() => {
    this.pos = 0;
    return null;
  });
}

// ---------------------------------------------------------------------------------------------
// Type predicates

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

export function isMapping(v: unknown): v is Map<unknown, unknown> | Record<string, unknown> {
  return v instanceof Map || isPlainObject(v);
}

export function isNumber(v: unknown): v is number | PyFloat {
  return typeof v === 'number' || v instanceof PyFloat;
}

export function isFloat(v: unknown): boolean {
  return v instanceof PyFloat || (typeof v === 'number' && !Number.isInteger(v));
}

export function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/** Numeric value of int/float/bool (Python bools are ints). */
export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v instanceof PyFloat) return v.value;
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw typeError(`expected a number, got ${pyRepr(typeName(v))}`);
}

export function isNumeric(v: unknown): boolean {
  return typeof v === 'number' || typeof v === 'boolean' || v instanceof PyFloat;
}

/** A float value: boxed when integral so it keeps printing as a float. */
export function mkFloat(x: number): number | PyFloat {
  return Number.isInteger(x) ? new PyFloat(x) : x;
}

export function typeName(v: unknown): string {
  if (v === null) return 'NoneType';
  if (v === undefined || v instanceof Undefined) return 'Undefined';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (v instanceof PyFloat) return 'float';
  if (isTuple(v)) return 'tuple';
  if (Array.isArray(v)) return 'list';
  if (isMapping(v)) return 'dict';
  if (v instanceof Namespace) return 'Namespace';
  if (typeof v === 'function') return isJinjaCallable(v) ? 'function' : 'function';
  if (typeof v === 'object') {
    const ctor = (v as { constructor?: { name?: string } }).constructor;
    return ctor?.name || 'object';
  }
  return typeof v;
}

export function objectTypeRepr(v: unknown): string {
  if (v === null) return 'None';
  return `${typeName(v)} object`;
}

// ---------------------------------------------------------------------------------------------
// Mappings (Map or plain object)

function mapKey(k: unknown): unknown {
  if (k instanceof PyFloat) return k.value;
  if (typeof k === 'boolean') return k ? 1 : 0;
  return k;
}

/** The stored key equal to `k` (Python hashing: 1 == 1.0 == True, equal tuples), or MISSING. */
function findKey(m: Map<unknown, unknown>, k: unknown): unknown {
  if (m.has(k)) return k;
  if (typeof k === 'string' || k === null) return MISSING;
  const nk = mapKey(k);
  for (const existing of m.keys()) {
    if (typeof existing === 'string') continue;
    if (mapKey(existing) === nk || (Array.isArray(existing) && Array.isArray(k) && pyEq(existing, k))) return existing;
  }
  return MISSING;
}

export function mapHas(m: Map<unknown, unknown> | Record<string, unknown>, k: unknown): boolean {
  if (m instanceof Map) return findKey(m, k) !== MISSING;
  return typeof k === 'string' && Object.prototype.hasOwnProperty.call(m, k);
}

export function mapGet(m: Map<unknown, unknown> | Record<string, unknown>, k: unknown): unknown {
  if (m instanceof Map) {
    const key = findKey(m, k);
    return key === MISSING ? undefined : m.get(key);
  }
  return typeof k === 'string' && Object.prototype.hasOwnProperty.call(m, k) ? m[k] : undefined;
}

export function mapSet(m: Map<unknown, unknown> | Record<string, unknown>, k: unknown, v: unknown): void {
  if (m instanceof Map) {
    if (Array.isArray(k) && !isTuple(k)) throw typeError("unhashable type: 'list'");
    if (isMapping(k)) throw typeError("unhashable type: 'dict'");
    const key = findKey(m, k);
    m.set(key === MISSING ? k : key, v);
    return;
  }
  m[typeof k === 'string' ? k : pyStr(k)] = v;
}

export function mapDelete(m: Map<unknown, unknown> | Record<string, unknown>, k: unknown): void {
  if (m instanceof Map) {
    const key = findKey(m, k);
    if (key !== MISSING) m.delete(key);
    return;
  }
  if (typeof k === 'string') delete m[k];
}

export function mapKeys(m: Map<unknown, unknown> | Record<string, unknown>): unknown[] {
  return m instanceof Map ? [...m.keys()] : Object.keys(m);
}

export function mapEntries(m: Map<unknown, unknown> | Record<string, unknown>): [unknown, unknown][] {
  return m instanceof Map ? [...m.entries()] : Object.entries(m);
}

export function mapSize(m: Map<unknown, unknown> | Record<string, unknown>): number {
  return m instanceof Map ? m.size : Object.keys(m).length;
}

/** A new template dict (`Map`) from entries. */
export function dictFrom(entries: Iterable<[unknown, unknown]>): Map<unknown, unknown> {
  const m = new Map<unknown, unknown>();
  for (const [k, v] of entries) mapSet(m, k, v);
  return m;
}

// ---------------------------------------------------------------------------------------------
// str() and repr()

export function floatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mant = '0', expStr = '0'] = Math.abs(x).toExponential().split('e');
  const digits = mant.replace('.', '');
  const e = parseInt(expStr, 10);
  // Python's repr: positional notation when -4 <= exponent < 16, scientific otherwise.
  if (e >= -4 && e < 16) {
    if (e >= 0) {
      const intPart = digits.length > e + 1 ? digits.slice(0, e + 1) : digits.padEnd(e + 1, '0');
      const frac = digits.length > e + 1 ? digits.slice(e + 1) : '0';
      return `${sign}${intPart}.${frac}`;
    }
    return `${sign}0.${'0'.repeat(-e - 1)}${digits}`;
  }
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const ae = Math.abs(e);
  return `${sign}${m}e${e < 0 ? '-' : '+'}${ae < 10 ? '0' : ''}${ae}`;
}

export function intStr(x: number): string {
  if (Math.abs(x) < 1e21) return String(x);
  return BigInt(x).toString();
}

const NON_PRINTABLE = /[\p{C}\p{Z}]/u;

export function strRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch !== ' ' && NON_PRINTABLE.test(ch)) {
      if (code <= 0xff) out += `\\x${code.toString(16).padStart(2, '0')}`;
      else if (code <= 0xffff) out += `\\u${code.toString(16).padStart(4, '0')}`;
      else out += `\\U${code.toString(16).padStart(8, '0')}`;
    } else out += ch;
  }
  return out + quote;
}

function hasCustomToString(v: object): boolean {
  const ts = (v as { toString?: unknown }).toString;
  return typeof ts === 'function' && ts !== Object.prototype.toString && ts !== Array.prototype.toString;
}

/** Python `str(v)`. */
export function pyStr(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v instanceof Undefined) return '';
  return pyRepr(v);
}

/** Python `repr(v)`. */
export function pyRepr(v: unknown, seen: Set<unknown> = new Set(), sortKeys = false): string {
  if (v === null) return 'None';
  if (v === undefined || v instanceof Undefined) return v === undefined ? 'Undefined' : 'Undefined';
  if (typeof v === 'string') return strRepr(v);
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return Number.isInteger(v) ? intStr(v) : floatRepr(v);
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof PyFloat) return floatRepr(v.value);
  if (typeof v === 'symbol') return v.toString();
  if (typeof v === 'function') {
    const n = (v as { jinjaName?: string }).jinjaName;
    return n ? `<Macro ${strRepr(n)}>` : `<function ${v.name || 'anonymous'}>`;
  }
  if (seen.has(v)) return Array.isArray(v) ? '[...]' : '{...}';
  if (Array.isArray(v)) {
    seen.add(v);
    const items = v.map((x) => pyRepr(x, seen, sortKeys));
    seen.delete(v);
    if (isTuple(v)) return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
    const viewKind = (v as unknown as Record<symbol, unknown>)[VIEW];
    if (typeof viewKind === 'string')
      return viewKind.startsWith('range(') ? viewKind : `${viewKind}([${items.join(', ')}])`;
    return `[${items.join(', ')}]`;
  }
  if (v instanceof Namespace) {
    seen.add(v);
    const inner = [...v.attrs.entries()].map(([k, x]) => `${strRepr(k)}: ${pyRepr(x, seen)}`);
    seen.delete(v);
    return `<Namespace {${inner.join(', ')}}>`;
  }
  if (isPlainObject(v) && Object.prototype.hasOwnProperty.call(v, 'toString') && typeof v.toString === 'function') {
    // A JS object literal with its own toString() is meant as an object, not a dict.
    return String(v);
  }
  if (isMapping(v)) {
    seen.add(v);
    const entries = mapEntries(v);
    if (sortKeys) entries.sort((p, q) => pyCmp(p[0], q[0]));
    const inner = entries.map(([k, x]) => `${pyRepr(k, seen, sortKeys)}: ${pyRepr(x, seen, sortKeys)}`);
    seen.delete(v);
    return `{${inner.join(', ')}}`;
  }
  if (v instanceof Set) return v.size ? `{${[...v].map((x) => pyRepr(x, seen)).join(', ')}}` : 'set()';
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object' && hasCustomToString(v)) return String(v);
  return `<${typeName(v)} object>`;
}

// ---------------------------------------------------------------------------------------------
// Truthiness, equality, ordering

export function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v instanceof Undefined) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (v instanceof PyFloat) return v.value !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map || v instanceof Set) return v.size > 0;
  if (isPlainObject(v)) return Object.keys(v).length > 0;
  return true;
}

/**
 * Operator protocol for host objects (e.g. dbt's datetime values): an object may define
 * `__add__(other)`, `__sub__(other)`, `__eq__(other)`, `__cmp__(other)` (-1/0/1). Returning
 * `undefined` means NotImplemented (Python then tries the other operand / raises).
 */
type OpHost = {
  __add__?: (o: unknown) => unknown;
  __sub__?: (o: unknown) => unknown;
  __eq__?: (o: unknown) => unknown;
  __cmp__?: (o: unknown) => unknown;
};
function hostOp(a: unknown, op: keyof OpHost, b: unknown): unknown {
  if (a === null || typeof a !== 'object') return undefined;
  const f = (a as OpHost)[op];
  return typeof f === 'function' ? f.call(a, b) : undefined;
}

export function pyEq(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const eq = hostOp(a, '__eq__', b) ?? hostOp(b, '__eq__', a);
  if (eq !== undefined) return eq === true;
  if (isNumeric(a) && isNumeric(b)) return num(a) === num(b);
  const ua = a === undefined || a instanceof Undefined;
  const ub = b === undefined || b instanceof Undefined;
  if (ua || ub) return ua && ub;
  if (a === null || b === null) return false;
  if (typeof a === 'string' || typeof b === 'string') return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (isTuple(a) !== isTuple(b) || a.length !== b.length) return false;
    return a.every((x, i) => pyEq(x, b[i]));
  }
  if (isMapping(a) && isMapping(b)) {
    if (mapSize(a) !== mapSize(b)) return false;
    return mapEntries(a).every(([k, v]) => mapHas(b, k) && pyEq(v, mapGet(b, k)));
  }
  if (a instanceof Namespace && b instanceof Namespace) return a === b;
  // Python sets compare by content (dbt_utils.equality compares column-name sets).
  if (a instanceof Set && b instanceof Set)
    return a.size === b.size && [...a].every((x) => [...b].some((y) => pyEq(x, y)));
  return false;
}

const OP_SYMBOL: Record<string, string> = { lt: '<', le: '<=', gt: '>', ge: '>=' };

/** Python ordering: -1/0/1, or a TypeError for unorderable types. */
export function pyCmp(a: unknown, b: unknown, op: string = 'lt'): number {
  if (a instanceof Undefined) a.fail();
  if (b instanceof Undefined) b.fail();
  if (isNumeric(a) && isNumeric(b)) {
    const x = num(a);
    const y = num(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'string' && typeof b === 'string') {
    // Python compares code points; JS compares UTF-16 units (same order outside astral planes).
    return a < b ? -1 : a > b ? 1 : 0;
  }
  const host = hostOp(a, '__cmp__', b);
  if (typeof host === 'number') return host;
  if (Array.isArray(a) && Array.isArray(b) && isTuple(a) === isTuple(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      if (!pyEq(a[i], b[i])) return pyCmp(a[i], b[i], op);
    }
    return a.length - b.length < 0 ? -1 : a.length > b.length ? 1 : 0;
  }
  throw typeError(
    `'${OP_SYMBOL[op] ?? op}' not supported between instances of ${strRepr(typeName(a))} and ${strRepr(typeName(b))}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Iteration and length

/** The items of a Python iteration over `v` (list, tuple, str, dict keys, iterables). */
export function pyIter(v: unknown): unknown[] {
  if (v === undefined || v instanceof Undefined) return [];
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return Array.from(v);
  if (v instanceof Map) return [...v.keys()];
  if (isPlainObject(v)) return Object.keys(v);
  if (v instanceof Namespace) throw typeError("'Namespace' object is not iterable");
  if (v !== null && typeof v === 'object' && Symbol.iterator in v) {
    return [...(v as Iterable<unknown>)];
  }
  throw typeError(`${strRepr(typeName(v))} object is not iterable`);
}

export function pyLen(v: unknown): number {
  if (v === undefined || v instanceof Undefined) return 0;
  if (typeof v === 'string') return Array.from(v).length;
  if (Array.isArray(v)) return v.length;
  if (v instanceof Map || v instanceof Set) return v.size;
  if (isPlainObject(v)) return Object.keys(v).length;
  if (v !== null && typeof v === 'object') {
    const len = (v as { length?: unknown }).length;
    if (typeof len === 'number') return len;
    if (Symbol.iterator in v) return [...(v as Iterable<unknown>)].length;
  }
  throw typeError(`object of type ${strRepr(typeName(v))} has no len()`);
}

export function pyContains(container: unknown, item: unknown): boolean {
  if (container === undefined || container instanceof Undefined) return false;
  if (typeof container === 'string') {
    if (item instanceof Undefined) item.fail();
    if (typeof item !== 'string')
      throw typeError(`'in <string>' requires string as left operand, not ${typeName(item)}`);
    return container.includes(item);
  }
  if (Array.isArray(container)) return container.some((x) => pyEq(x, item));
  if (isMapping(container)) {
    if ((Array.isArray(item) && !isTuple(item)) || isMapping(item))
      throw typeError(`unhashable type: '${typeName(item)}'`);
    return mapHas(container, item);
  }
  if (container instanceof Set) return [...container].some((x) => pyEq(x, item));
  return pyIter(container).some((x) => pyEq(x, item));
}

// ---------------------------------------------------------------------------------------------
// Arithmetic

function unsupported(op: string, a: unknown, b: unknown): PyError {
  return typeError(`unsupported operand type(s) for ${op}: ${strRepr(typeName(a))} and ${strRepr(typeName(b))}`);
}

function checkDefined(a: unknown, b: unknown): void {
  if (a instanceof Undefined) a.fail();
  if (b instanceof Undefined) b.fail();
  if (a === undefined || b === undefined) throw undefinedError('undefined value in expression');
}

function numResult(x: number, a: unknown, b: unknown): number | PyFloat {
  return isFloat(a) || isFloat(b) ? mkFloat(x) : x;
}

export function pyAdd(a: unknown, b: unknown): unknown {
  checkDefined(a, b);
  if (isNumeric(a) && isNumeric(b)) return numResult(num(a) + num(b), a, b);
  if (typeof a === 'string') {
    if (typeof b === 'string') return a + b;
    throw typeError(`can only concatenate str (not "${typeName(b)}") to str`);
  }
  if (Array.isArray(a)) {
    if (Array.isArray(b) && isTuple(a) === isTuple(b)) {
      const out = [...a, ...b];
      return isTuple(a) ? tuple(out) : out;
    }
    const t = isTuple(a) ? 'tuple' : 'list';
    throw typeError(`can only concatenate ${t} (not "${typeName(b)}") to ${t}`);
  }
  const host = hostOp(a, '__add__', b) ?? hostOp(b, '__add__', a);
  if (host !== undefined) return host;
  throw unsupported('+', a, b);
}

export function pySub(a: unknown, b: unknown): unknown {
  checkDefined(a, b);
  if (isNumeric(a) && isNumeric(b)) return numResult(num(a) - num(b), a, b);
  const host = hostOp(a, '__sub__', b);
  if (host !== undefined) return host;
  throw unsupported('-', a, b);
}

function repeatSeq(seq: unknown, n: number): unknown {
  const k = Math.max(0, n);
  if (typeof seq === 'string') return seq.repeat(k);
  const arr = seq as unknown[];
  const out: unknown[] = [];
  for (let i = 0; i < k; i++) out.push(...arr);
  return isTuple(arr) ? tuple(out) : out;
}

export function pyMul(a: unknown, b: unknown): unknown {
  checkDefined(a, b);
  if (isNumeric(a) && isNumeric(b)) return numResult(num(a) * num(b), a, b);
  const isSeq = (x: unknown): boolean => typeof x === 'string' || Array.isArray(x);
  if (isSeq(a) && isNumeric(b)) {
    if (isFloat(b)) throw typeError(`can't multiply sequence by non-int of type 'float'`);
    return repeatSeq(a, num(b));
  }
  if (isSeq(b) && isNumeric(a)) {
    if (isFloat(a)) throw typeError(`can't multiply sequence by non-int of type 'float'`);
    return repeatSeq(b, num(a));
  }
  if (isSeq(a) || isSeq(b))
    throw typeError(`can't multiply sequence by non-int of type ${strRepr(typeName(isSeq(a) ? b : a))}`);
  throw unsupported('*', a, b);
}

export function pyDiv(a: unknown, b: unknown): unknown {
  checkDefined(a, b);
  if (isNumeric(a) && isNumeric(b)) {
    if (num(b) === 0) throw new PyError('ZeroDivisionError', 'division by zero');
    return mkFloat(num(a) / num(b));
  }
  throw unsupported('/', a, b);
}

export function pyFloorDiv(a: unknown, b: unknown): unknown {
  checkDefined(a, b);
  if (isNumeric(a) && isNumeric(b)) {
    if (num(b) === 0) {
      throw new PyError(
        'ZeroDivisionError',
        isFloat(a) || isFloat(b) ? 'float floor division by zero' : 'integer division or modulo by zero',
      );
    }
    return numResult(Math.floor(num(a) / num(b)), a, b);
  }
  throw unsupported('//', a, b);
}

export function pyMod(a: unknown, b: unknown): unknown {
  // str % x never touches x unless a conversion uses it (so Undefined is allowed there).
  if (typeof a === 'string') return percentFormat(a, b);
  checkDefined(a, b);
  if (isNumeric(a) && isNumeric(b)) {
    const y = num(b);
    if (y === 0)
      throw new PyError('ZeroDivisionError', isFloat(a) || isFloat(b) ? 'float modulo' : 'integer modulo by zero');
    const x = num(a);
    if (isFloat(a) || isFloat(b)) {
      // CPython's float_rem: fmod, then move into the divisor's sign; zero takes the divisor's sign.
      let m = x % y;
      if (m) {
        if (y < 0 !== m < 0) m += y;
      } else m = y < 0 ? -0 : 0;
      return mkFloat(m);
    }
    return x - Math.floor(x / y) * y;
  }
  throw unsupported('%', a, b);
}

export function pyPow(a: unknown, b: unknown): unknown {
  checkDefined(a, b);
  if (isNumeric(a) && isNumeric(b)) {
    const x = num(a);
    const y = num(b);
    if (x === 0 && y < 0) throw new PyError('ZeroDivisionError', '0.0 cannot be raised to a negative power');
    if (!isFloat(a) && !isFloat(b) && y < 0) return mkFloat(x ** y);
    return numResult(x ** y, a, b);
  }
  throw unsupported('** or pow()', a, b);
}

export function pyNeg(a: unknown): unknown {
  if (a instanceof Undefined) a.fail();
  if (isNumeric(a)) return isFloat(a) ? mkFloat(-num(a)) : -num(a) || 0;
  throw typeError(`bad operand type for unary -: ${strRepr(typeName(a))}`);
}

export function pyPos(a: unknown): unknown {
  if (a instanceof Undefined) a.fail();
  if (isNumeric(a)) return typeof a === 'boolean' ? num(a) : a;
  throw typeError(`bad operand type for unary +: ${strRepr(typeName(a))}`);
}

// ---------------------------------------------------------------------------------------------
// printf-style formatting: 'text %s' % value

interface Spec {
  flags: string;
  width: number | null;
  precision: number | null;
  type: string;
}

function pad(s: string, spec: Spec, numeric: boolean): string {
  const width = spec.width ?? 0;
  if (s.length >= width) return s;
  if (spec.flags.includes('-')) return s.padEnd(width, ' ');
  if (numeric && spec.flags.includes('0')) {
    const sign = /^[+\- ]/.test(s) ? (s[0] as string) : '';
    return sign + s.slice(sign.length).padStart(width - sign.length, '0');
  }
  return s.padStart(width, ' ');
}

function signed(s: string, negative: boolean, flags: string): string {
  if (negative) return `-${s}`;
  if (flags.includes('+')) return `+${s}`;
  if (flags.includes(' ')) return ` ${s}`;
  return s;
}

function formatNumber(v: unknown, type: string, precision: number | null, flags: string, alt = false): string {
  if (!isNumeric(v)) {
    if (type === 'd' || type === 'i') throw typeError(`%${type} format: a real number is required, not ${typeName(v)}`);
    throw typeError(`must be real number, not ${typeName(v)}`);
  }
  const x = num(v);
  const neg = x < 0 || Object.is(x, -0);
  const ax = Math.abs(x);
  let body: string;
  switch (type) {
    case 'd':
    case 'i':
    case 'u':
      body = intStr(Math.trunc(ax));
      break;
    case 'x':
    case 'X':
      body = Math.trunc(ax).toString(16);
      if (alt) body = `0x${body}`;
      if (type === 'X') body = body.toUpperCase();
      break;
    case 'o':
      body = Math.trunc(ax).toString(8);
      if (alt) body = `0o${body}`;
      break;
    case 'f':
    case 'F':
      body = Number.isFinite(ax) ? fixedPy(ax, precision ?? 6) : Number.isNaN(ax) ? 'nan' : 'inf';
      break;
    case 'e':
    case 'E': {
      body = expFormat(ax, precision ?? 6);
      if (type === 'E') body = body.toUpperCase();
      break;
    }
    case 'g':
    case 'G': {
      body = gFormat(ax, precision ?? 6, alt);
      if (type === 'G') body = body.toUpperCase();
      break;
    }
    default:
      throw valueError(`unsupported format character '${type}'`);
  }
  return signed(body, neg && (ax !== 0 || type === 'f' || type === 'e' || type === 'g'), flags);
}

/**
 * `x.toFixed(precision)` with Python's rounding: exact ties go to the even digit
 * (`'%.1f' % 0.25` is `0.2`; JS gives `0.3`). `ax` must be finite and non-negative.
 */
export function fixedPy(ax: number, precision: number): string {
  if (ax >= 1e21) return ax.toFixed(precision);
  const exact = ax.toFixed(Math.min(100, precision + 60));
  const dot = exact.indexOf('.');
  const keep = exact.slice(0, dot + 1 + precision).replace(/\.$/, '');
  const rest = exact.slice(dot + 1 + precision);
  let digits = keep.replace('.', '');
  const firstRest = rest[0] ?? '0';
  let roundUp = false;
  if (firstRest > '5') roundUp = true;
  else if (firstRest === '5') {
    if (/[1-9]/.test(rest.slice(1))) roundUp = true;
    else roundUp = Number(digits[digits.length - 1] ?? '0') % 2 === 1;
  }
  if (roundUp) digits = (BigInt(digits) + 1n).toString().padStart(digits.length, '0');
  const intLen = digits.length - precision;
  return precision > 0 ? `${digits.slice(0, intLen) || '0'}.${digits.slice(intLen)}` : digits;
}

function expFormat(ax: number, precision: number): string {
  if (!Number.isFinite(ax)) return Number.isNaN(ax) ? 'nan' : 'inf';
  const [m = '0', e = '0'] = ax.toExponential(precision).split('e');
  const ev = parseInt(e, 10);
  return `${m}e${ev < 0 ? '-' : '+'}${String(Math.abs(ev)).padStart(2, '0')}`;
}

function gFormat(ax: number, precision: number, alt: boolean): string {
  if (!Number.isFinite(ax)) return Number.isNaN(ax) ? 'nan' : 'inf';
  const p = precision === 0 ? 1 : precision;
  if (ax === 0) return alt ? `0.${'0'.repeat(p - 1)}` : '0';
  const exp = parseInt(ax.toExponential(p - 1).split('e')[1] ?? '0', 10);
  let s: string;
  if (exp < -4 || exp >= p) {
    s = expFormat(ax, p - 1);
    if (!alt) s = s.replace(/\.?0+e/, 'e');
  } else {
    s = fixedPy(ax, Math.max(0, p - 1 - exp));
    if (!alt && s.includes('.')) s = s.replace(/\.?0+$/, '');
  }
  return s;
}

export function percentFormat(fmt: string, args: unknown): string {
  let positional: unknown[];
  let mapping: Map<unknown, unknown> | Record<string, unknown> | null = null;
  if (isTuple(args)) positional = args as unknown[];
  else {
    positional = [args];
    if (isMapping(args)) mapping = args;
  }
  let idx = 0;
  const re = /%(?:\(([^)]*)\))?([-+ #0]*)(\*|\d+)?(?:\.(\*|\d+))?([diouxXeEfFgGcrsa%])/g;
  let out = '';
  let last = 0;
  let usedMapping = false;
  const next = (): unknown => {
    if (idx >= positional.length) throw typeError('not enough arguments for format string');
    return positional[idx++];
  };
  for (let m = re.exec(fmt); m; m = re.exec(fmt)) {
    out += fmt.slice(last, m.index);
    last = re.lastIndex;
    const [, key, flags = '', w, p, type = 's'] = m;
    if (type === '%' && key === undefined) {
      out += '%';
      continue;
    }
    const width = w === '*' ? num(next()) : w !== undefined ? parseInt(w, 10) : null;
    const precision = p === '*' ? num(next()) : p !== undefined ? parseInt(p, 10) : null;
    let value: unknown;
    if (key !== undefined) {
      if (!mapping) throw typeError('format requires a mapping');
      usedMapping = true;
      if (!mapHas(mapping, key)) throw new PyError('KeyError', strRepr(key));
      value = mapGet(mapping, key);
    } else value = next();
    const spec: Spec = { flags, width, precision, type };
    let s: string;
    if (type === 's' || type === 'r' || type === 'a') {
      s = type === 's' ? pyStr(value) : pyRepr(value);
      if (precision !== null) s = s.slice(0, precision);
      out += pad(s, spec, false);
    } else if (type === 'c') {
      s = typeof value === 'string' ? value : String.fromCodePoint(num(value));
      out += pad(s, spec, false);
    } else {
      out += pad(formatNumber(value, type, precision, flags, flags.includes('#')), spec, true);
    }
  }
  out += fmt.slice(last);
  // Python skips this check when the argument is subscriptable (a list or dict): '%s' % [1] is fine.
  const subscriptable = !isTuple(args) && (Array.isArray(args) || isMapping(args) || args instanceof Undefined);
  if (!usedMapping && !subscriptable && idx < positional.length) {
    throw typeError('not all arguments converted during string formatting');
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// str.format

export function applyFormatSpec(value: unknown, specText: string): string {
  // Objects may format themselves like Python's __format__ (e.g. datetimes: '{:%Y-%m-%d}').
  const own = value !== null && typeof value === 'object' ? (value as { __format__?: unknown }).__format__ : undefined;
  if (typeof own === 'function') return String((own as (spec: string) => unknown).call(value, specText));
  const m = /^(?:(.)?([<>=^]))?([-+ ])?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$/s.exec(specText);
  if (!m) throw valueError(`Invalid format specifier '${specText}'`);
  const [, fillCh, align, signIn, alt, zero, widthText, grouping, precText, type] = m;
  const sign = signIn ?? '-';
  const width = widthText ? parseInt(widthText, 10) : 0;
  const precision = precText !== undefined ? parseInt(precText, 10) : null;
  let fill = fillCh ?? ' ';
  let al = align;
  if (zero && !align) {
    fill = '0';
    al = '=';
  }
  let body: string;
  let prefix = '';
  if (typeof value === 'string' || (!isNumeric(value) && type === undefined) || type === 's') {
    body = pyStr(value);
    if (precision !== null) body = body.slice(0, precision);
    al = al ?? '<';
  } else {
    if (!isNumeric(value))
      throw valueError(`Unknown format code '${type ?? ''}' for object of type '${typeName(value)}'`);
    const x = num(value);
    const neg = x < 0;
    const ax = Math.abs(x);
    let t = type;
    if (t === undefined) t = isFloat(value) ? (precision !== null ? 'g' : 'r') : 'd';
    switch (t) {
      case 'd':
      case 'n':
        body = intStr(Math.trunc(ax));
        break;
      case 'r':
        body = floatRepr(ax);
        break;
      case '%':
        body = `${fixedPy(ax * 100, precision ?? 6)}%`;
        break;
      case 'c':
        body = String.fromCodePoint(ax);
        break;
      default:
        body = formatNumber(ax, t, precision, '', Boolean(alt));
    }
    if (grouping) {
      const [ip = '', fp] = body.split('.');
      const grouped = ip.replace(/\B(?=(\d{3})+(?!\d))/g, grouping);
      body = fp !== undefined ? `${grouped}.${fp}` : grouped;
    }
    prefix = neg ? '-' : sign === '+' ? '+' : sign === ' ' ? ' ' : '';
    al = al ?? '>';
  }
  const total = prefix.length + body.length;
  if (total >= width) return prefix + body;
  const padLen = width - total;
  switch (al) {
    case '<':
      return prefix + body + fill.repeat(padLen);
    case '^': {
      const left = Math.floor(padLen / 2);
      return fill.repeat(left) + prefix + body + fill.repeat(padLen - left);
    }
    case '=':
      return prefix + fill.repeat(padLen) + body;
    default:
      return fill.repeat(padLen) + prefix + body;
  }
}

/**
 * Python `str.format`. `getField` resolves `{0.attr}` / `{name[key]}` chains with the
 * template's attribute semantics.
 */
export function strFormat(
  fmt: string,
  args: unknown[],
  kwargs: Record<string, unknown>,
  getAttr: (obj: unknown, name: string) => unknown,
  getItem: (obj: unknown, key: unknown) => unknown,
): string {
  let out = '';
  let auto = 0;
  let i = 0;
  while (i < fmt.length) {
    const ch = fmt[i];
    if (ch === '{') {
      if (fmt[i + 1] === '{') {
        out += '{';
        i += 2;
        continue;
      }
      let depth = 1;
      let j = i + 1;
      while (j < fmt.length && depth > 0) {
        if (fmt[j] === '{') depth++;
        else if (fmt[j] === '}') depth--;
        if (depth > 0) j++;
      }
      if (depth !== 0) throw valueError("Single '{' encountered in format string");
      const field = fmt.slice(i + 1, j);
      i = j + 1;
      const fm = /^([^.[!:]*)((?:\.[^.[!:]+|\[[^\]]*\])*)(?:!([rsa]))?(?::(.*))?$/s.exec(field);
      if (!fm) throw valueError(`bad format field '${field}'`);
      const [, head = '', chain = '', conv, specRaw = ''] = fm;
      let value: unknown;
      if (head === '') {
        value = args[auto++];
        if (auto > args.length)
          throw new PyError('IndexError', 'Replacement index 0 out of range for positional args tuple');
      } else if (/^\d+$/.test(head)) {
        const n = parseInt(head, 10);
        if (n >= args.length)
          throw new PyError('IndexError', `Replacement index ${n} out of range for positional args tuple`);
        value = args[n];
      } else {
        if (!Object.prototype.hasOwnProperty.call(kwargs, head)) throw new PyError('KeyError', strRepr(head));
        value = kwargs[head];
      }
      const parts = chain.match(/\.[^.[]+|\[[^\]]*\]/g) ?? [];
      for (const part of parts) {
        if (part.startsWith('.')) value = getAttr(value, part.slice(1));
        else {
          const k = part.slice(1, -1);
          value = getItem(value, /^\d+$/.test(k) ? parseInt(k, 10) : k);
        }
      }
      if (conv === 'r' || conv === 'a') value = pyRepr(value);
      else if (conv === 's') value = pyStr(value);
      const spec = specRaw.includes('{') ? strFormat(specRaw, args, kwargs, getAttr, getItem) : specRaw;
      out += applyFormatSpec(value, spec);
    } else if (ch === '}') {
      if (fmt[i + 1] === '}') {
        out += '}';
        i += 2;
        continue;
      }
      throw valueError("Single '}' encountered in format string");
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Conversion for JS consumers

/**
 * Converts a template value to plain JS: Map → object (keys stringified), PyFloat → number,
 * tuple → array, Undefined → undefined, Namespace → object. Used by the dbt layer on
 * values handed back from templates (e.g. `config(indexes=[{...}])`).
 */
export function toJs(v: unknown): unknown {
  if (v instanceof PyFloat) return v.value;
  if (v instanceof Undefined) return undefined;
  if (Array.isArray(v)) return v.map(toJs);
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v) o[typeof k === 'string' ? k : pyStr(k)] = toJs(x);
    return o;
  }
  if (v instanceof Namespace) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v.attrs) o[k] = toJs(x);
    return o;
  }
  if (isPlainObject(v)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = toJs(x);
    return o;
  }
  return v;
}
