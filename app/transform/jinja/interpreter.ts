/**
 * Tree-walking, asynchronous interpreter. Every expression evaluation may await, so a global
 * (e.g. dbt's `run_query`) can return a Promise and templates see the plain value.
 */
import { PyError, TemplateRuntimeError, typeError, valueError } from './errors';
import { pyMethod } from './methods';
import { undefinedAtStart } from './scoping';
import { macroKey, type CallArgs, type Expr, type MacroNode, type MacroParam, type Stmt, type Target } from './nodes';
import {
  Cycler,
  type JinjaCallable,
  MISSING,
  Namespace,
  PyFloat,
  Undefined,
  callable,
  dictFrom,
  isInt,
  isJinjaCallable,
  isMapping,
  isNumeric,
  isPlainObject,
  isTuple,
  mapGet,
  mapHas,
  mapSet,
  num,
  pyAdd,
  pyCmp,
  pyContains,
  pyDiv,
  pyEq,
  pyFloorDiv,
  pyIter,
  pyMod,
  pyMul,
  pyNeg,
  pyPos,
  pyPow,
  pyRepr,
  pySub,
  pyStr,
  truthy,
  tuple,
  typeName,
} from './values';

/** Thrown by dbt's `return(value)`; the enclosing macro call evaluates to `value`. */
export class ReturnSignal {
  constructor(readonly value: unknown) {}
}

class BreakSignal {}
class ContinueSignal {}
const BREAK = new BreakSignal();
const CONTINUE = new ContinueSignal();

/** What filters and tests receive besides their arguments. */
export interface EvalContext {
  readonly lenientUndefined: boolean;
  getattr(obj: unknown, name: string): unknown;
  getitem(obj: unknown, key: unknown): unknown;
  call(fn: unknown, args: unknown[], kwargs?: Record<string, unknown>): Promise<unknown>;
  callFilter(name: string, value: unknown, args: unknown[], kwargs?: Record<string, unknown>): Promise<unknown>;
  callTest(name: string, value: unknown, args: unknown[], kwargs?: Record<string, unknown>): Promise<boolean>;
}

export type JinjaFilter = (
  value: unknown,
  args: unknown[],
  kwargs: Record<string, unknown>,
  ctx: EvalContext,
) => unknown;
export type JinjaTest = (value: unknown, args: unknown[], kwargs: Record<string, unknown>, ctx: EvalContext) => unknown;

export interface Runtime {
  filters: Map<string, JinjaFilter>;
  tests: Map<string, JinjaTest>;
  globals: Record<string, unknown>;
  lenientUndefined: boolean;
}

type Context = Record<string, unknown>;

/** The root of name resolution: the render context, then environment globals, then fallbacks. */
class Root {
  constructor(
    readonly context: Context | (() => Context),
    readonly fallback: Map<string, unknown> | null,
  ) {}
  ctx(): Context {
    return typeof this.context === 'function' ? this.context() : this.context;
  }
}

class Scope {
  readonly vars = new Map<string, unknown>();
  constructor(
    readonly parent: Scope | null,
    readonly root: Root,
  ) {}
  child(): Scope {
    return new Scope(this, this.root);
  }
}

function lookupProp(obj: object, name: string): { found: boolean; value: unknown } {
  let o: object | null = obj;
  while (o && o !== Object.prototype && o !== Function.prototype) {
    if (Object.prototype.hasOwnProperty.call(o, name))
      return { found: true, value: (obj as Record<string, unknown>)[name] };
    o = Object.getPrototypeOf(o) as object | null;
  }
  return { found: false, value: undefined };
}

/** Loop state exposed as `loop` inside `{% for %}`. */
export class LoopContext {
  constructor(
    private readonly items: unknown[],
    private readonly i: number,
    readonly depth0: number,
    readonly recurse: ((iterable: unknown) => Promise<string>) | null,
    private lastChanged: { value: unknown[] | typeof MISSING },
  ) {}
  get index0(): number {
    return this.i;
  }
  get index(): number {
    return this.i + 1;
  }
  get revindex(): number {
    return this.items.length - this.i;
  }
  get revindex0(): number {
    return this.items.length - this.i - 1;
  }
  get first(): boolean {
    return this.i === 0;
  }
  get last(): boolean {
    return this.i === this.items.length - 1;
  }
  get length(): number {
    return this.items.length;
  }
  get depth(): number {
    return this.depth0 + 1;
  }
  get previtem(): unknown {
    return this.i > 0 ? this.items[this.i - 1] : new Undefined(null, MISSING, 'there is no previous item');
  }
  get nextitem(): unknown {
    return this.i < this.items.length - 1
      ? this.items[this.i + 1]
      : new Undefined(null, MISSING, 'there is no next item');
  }
  get cycle(): JinjaCallable {
    return callable((args) => {
      if (args.length === 0) throw typeError('no items for cycling given');
      return args[this.i % args.length];
    });
  }
  get changed(): JinjaCallable {
    return callable((args) => {
      const prev = this.lastChanged.value;
      if (prev !== MISSING && pyEq(tuple([...prev]), tuple([...args]))) return false;
      this.lastChanged.value = args;
      return true;
    });
  }
  toString(): string {
    return `<LoopContext ${this.index}/${this.length}>`;
  }
}

function sliceIndices(len: number, startV: unknown, stopV: unknown, stepV: unknown): number[] {
  const toIdx = (v: unknown): number | null => {
    if (v === null || v === undefined || v instanceof Undefined) return null;
    if (!isNumeric(v) || !Number.isInteger(num(v)))
      throw typeError('slice indices must be integers or None or have an __index__ method');
    return num(v);
  };
  const step = toIdx(stepV) ?? 1;
  if (step === 0) throw valueError('slice step cannot be zero');
  let start = toIdx(startV);
  let stop = toIdx(stopV);
  if (step > 0) {
    start = start === null ? 0 : start < 0 ? Math.max(0, start + len) : Math.min(start, len);
    stop = stop === null ? len : stop < 0 ? Math.max(0, stop + len) : Math.min(stop, len);
  } else {
    start = start === null ? len - 1 : start < 0 ? Math.max(-1, start + len) : Math.min(start, len - 1);
    stop = stop === null ? -1 : stop < 0 ? Math.max(-1, stop + len) : Math.min(stop, len - 1);
  }
  const out: number[] = [];
  if (step > 0) for (let i = start; i < stop; i += step) out.push(i);
  else for (let i = start; i > stop; i += step) out.push(i);
  return out;
}

export function pySlice(obj: unknown, start: unknown, stop: unknown, step: unknown): unknown {
  if (typeof obj === 'string') {
    const chars = Array.from(obj);
    return sliceIndices(chars.length, start, stop, step)
      .map((i) => chars[i])
      .join('');
  }
  if (Array.isArray(obj)) {
    const out = sliceIndices(obj.length, start, stop, step).map((i) => obj[i]);
    return isTuple(obj) ? tuple(out) : out;
  }
  // Jinja2 compiles slices to a direct Python subscription (no Undefined fallback).
  if (isMapping(obj)) throw typeError("unhashable type: 'slice'");
  throw typeError(`${pyRepr(typeName(obj))} object is not subscriptable`);
}

function typeNameOf(v: unknown): string {
  return v === null
    ? 'NoneType'
    : Array.isArray(v)
      ? 'list'
      : typeof v === 'string'
        ? 'str'
        : isMapping(v)
          ? 'dict'
          : typeof v;
}

export interface MacroObject extends JinjaCallable {
  jinjaName: string;
  macroNode: MacroNode;
}

export class Interpreter implements EvalContext {
  constructor(
    readonly rt: Runtime,
    readonly templateName: string,
  ) {}

  get lenientUndefined(): boolean {
    return this.rt.lenientUndefined;
  }

  // --- entry points ---------------------------------------------------------------------------

  async render(body: Stmt[], context: Context | (() => Context)): Promise<string> {
    const scope = this.frame(new Scope(null, new Root(context, null)), body);
    const out: string[] = [];
    await this.execBody(body, scope, out);
    return out.join('');
  }

  /** Callables for top-level macros, resolving free names through `context` (dbt semantics). */
  bindMacros(
    macros: MacroNode[],
    context: Context | (() => Context),
    keyOf: (m: MacroNode) => string,
  ): Record<string, JinjaCallable> {
    const fallback = new Map<string, unknown>();
    const root = new Root(context, fallback);
    const scope = new Scope(null, root);
    const result: Record<string, JinjaCallable> = {};
    for (const m of macros) {
      const fn = this.makeMacro(m, scope, true);
      result[keyOf(m)] = fn;
      if (m.flavour === 'macro') fallback.set(m.name, fn);
    }
    return result;
  }

  // --- errors ---------------------------------------------------------------------------------

  private wrap(e: unknown, line: number): unknown {
    if (e instanceof TemplateRuntimeError || e instanceof ReturnSignal || e === BREAK || e === CONTINUE) return e;
    if (e instanceof PyError)
      return new TemplateRuntimeError(this.templateName, line, `${e.pyType}: ${e.message}`, { cause: e });
    const msg = e instanceof Error ? e.message : String(e);
    return new TemplateRuntimeError(this.templateName, line, msg, { cause: e });
  }

  // --- statements -----------------------------------------------------------------------------

  /** A new frame for `body`: names it assigns before any other use start out undefined (scoping.ts). */
  private frame(parent: Scope, body: readonly Stmt[]): Scope {
    const s = parent.child();
    for (const name of undefinedAtStart(body)) s.vars.set(name, new Undefined(name));
    return s;
  }

  private async execBody(body: Stmt[], scope: Scope, out: string[]): Promise<void> {
    for (const stmt of body) {
      if (stmt.kind === 'text') {
        out.push(stmt.value);
        continue;
      }
      try {
        await this.exec(stmt, scope, out);
      } catch (e) {
        // Like Jinja2, an error is located at its statement (a print: its expression).
        throw this.wrap(e, stmt.kind === 'print' ? stmt.expr.line : stmt.line);
      }
    }
  }

  private async renderBody(body: Stmt[], scope: Scope): Promise<string> {
    const out: string[] = [];
    await this.execBody(body, scope, out);
    return out.join('');
  }

  private async exec(stmt: Stmt, scope: Scope, out: string[]): Promise<void> {
    switch (stmt.kind) {
      case 'text':
        out.push(stmt.value);
        return;
      case 'print': {
        const v = await this.ev(stmt.expr, scope);
        out.push(pyStr(v));
        return;
      }
      case 'if': {
        for (const b of stmt.branches) {
          if (truthy(await this.ev(b.test, scope))) {
            await this.execBody(b.body, scope, out);
            return;
          }
        }
        await this.execBody(stmt.else, scope, out);
        return;
      }
      case 'for':
        await this.execFor(stmt, scope, out, 0);
        return;
      case 'set': {
        const v = await this.ev(stmt.expr, scope);
        this.assign(stmt.target, v, scope);
        return;
      }
      case 'setblock': {
        let v: unknown = await this.renderBody(stmt.body, this.frame(scope, stmt.body));
        for (const f of stmt.filters) v = await this.evFilterChain(f, v, scope);
        this.assign(stmt.target, v, scope);
        return;
      }
      case 'macro': {
        scope.vars.set(macroKey(stmt), this.makeMacro(stmt, scope, true));
        return;
      }
      case 'callblock': {
        const caller = this.makeCaller(stmt.params, stmt.body, stmt, scope);
        const call = stmt.call as Extract<Expr, { kind: 'call' }>;
        const fn = await this.ev(call.fn, scope);
        const { args, kwargs } = await this.evArgs(call, scope);
        kwargs.caller = caller;
        const v = await this.callValue(fn, args, kwargs, call.fn);
        out.push(pyStr(v));
        return;
      }
      case 'filterblock': {
        let v: unknown = await this.renderBody(stmt.body, this.frame(scope, stmt.body));
        for (const f of stmt.filters) v = await this.evFilterChain(f, v, scope);
        out.push(pyStr(v));
        return;
      }
      case 'with': {
        const inner = this.frame(scope, stmt.body);
        for (const t of stmt.targets) this.assign(t.target, await this.ev(t.value, scope), inner);
        await this.execBody(stmt.body, inner, out);
        return;
      }
      case 'do':
        await this.ev(stmt.expr, scope);
        return;
      case 'break':
        throw BREAK;
      case 'continue':
        throw CONTINUE;
      case 'snapshot':
        await this.execBody(stmt.body, scope, out);
        return;
    }
  }

  private async execFor(
    stmt: Extract<Stmt, { kind: 'for' }>,
    scope: Scope,
    out: string[],
    depth0: number,
    iterOverride?: unknown,
  ): Promise<void> {
    const iterable = iterOverride !== undefined ? iterOverride : await this.ev(stmt.iter, scope);
    if (iterable === null) throw typeError("'NoneType' object is not iterable");
    let items = pyIter(iterable);
    if (stmt.filter) {
      const kept: unknown[] = [];
      for (const item of items) {
        const s = scope.child();
        this.assign(stmt.target, item, s);
        let keep: unknown;
        try {
          keep = await this.ev(stmt.filter, s);
        } catch (e) {
          throw this.wrap(e, stmt.filter.line);
        }
        if (truthy(keep)) kept.push(item);
      }
      items = kept;
    } else items = [...items];
    if (items.length === 0) {
      await this.execBody(stmt.else, this.frame(scope, stmt.else), out);
      return;
    }
    const changed = { value: MISSING as unknown[] | typeof MISSING };
    const recurse = stmt.recursive
      ? async (it: unknown): Promise<string> => {
          const o: string[] = [];
          await this.execFor(stmt, scope, o, depth0 + 1, it);
          return o.join('');
        }
      : null;
    // Jinja2 runs the `else` block unless some iteration reached the end of the body: a
    // `break`, or a `continue` in every iteration, leaves it armed (observed in 3.1.6).
    let completed = false;
    for (let i = 0; i < items.length; i++) {
      const s = this.frame(scope, stmt.body);
      s.vars.set('loop', new LoopContext(items, i, depth0, recurse, changed));
      this.assign(stmt.target, items[i], s);
      try {
        await this.execBody(stmt.body, s, out);
        completed = true;
      } catch (e) {
        if (e === BREAK) break;
        if (e === CONTINUE) continue;
        throw e;
      }
    }
    if (!completed && stmt.else.length) await this.execBody(stmt.else, this.frame(scope, stmt.else), out);
  }

  private assign(target: Target, value: unknown, scope: Scope): void {
    switch (target.kind) {
      case 'name':
        scope.vars.set(target.name, value);
        return;
      case 'nsattr': {
        const ns = this.lookup(target.name, scope);
        if (!(ns instanceof Namespace))
          throw new PyError('TemplateRuntimeError', 'cannot assign attribute on non-namespace object');
        ns.attrs.set(target.attr, value);
        return;
      }
      case 'tuple': {
        if (value instanceof Undefined) value.fail();
        const items = pyIter(value);
        if (items.length < target.items.length) {
          throw valueError(`not enough values to unpack (expected ${target.items.length}, got ${items.length})`);
        }
        if (items.length > target.items.length)
          throw valueError(`too many values to unpack (expected ${target.items.length})`);
        target.items.forEach((t, i) => this.assign(t, items[i], scope));
        return;
      }
    }
  }

  // --- macros ---------------------------------------------------------------------------------

  private makeMacro(node: MacroNode, closure: Scope, catchReturn: boolean): MacroObject {
    const fn = callable((args, kwargs) =>
      this.invokeMacro(node.name, node.params, node.body, node, closure, args, kwargs, catchReturn),
    ) as MacroObject;
    fn.jinjaName = node.name;
    fn.macroNode = node;
    return fn;
  }

  private makeCaller(
    params: MacroParam[],
    body: Stmt[],
    flags: { usesVarargs: boolean; usesKwargs: boolean; usesCaller: boolean },
    closure: Scope,
  ): JinjaCallable {
    const fn = callable((args, kwargs) =>
      this.invokeMacro('caller', params, body, flags, closure, args, kwargs, false),
    );
    (fn as Partial<MacroObject>).jinjaName = 'caller';
    return fn;
  }

  private async invokeMacro(
    name: string,
    params: MacroParam[],
    body: Stmt[],
    flags: { usesVarargs: boolean; usesKwargs: boolean; usesCaller: boolean },
    closure: Scope,
    args: unknown[],
    kwargsIn: Record<string, unknown>,
    catchReturn: boolean,
  ): Promise<unknown> {
    const scope = this.frame(closure, body);
    const kwargs = { ...kwargsIn };
    const hasCaller = Object.prototype.hasOwnProperty.call(kwargs, 'caller');
    let caller: unknown;
    if (hasCaller) {
      caller = kwargs.caller;
      delete kwargs.caller;
    }
    for (let i = 0; i < params.length; i++) {
      const p = params[i] as MacroParam;
      let value: unknown;
      if (i < args.length) {
        if (Object.prototype.hasOwnProperty.call(kwargs, p.name)) {
          throw typeError(`macro '${name}' got multiple values for argument '${p.name}'`);
        }
        value = args[i];
      } else if (Object.prototype.hasOwnProperty.call(kwargs, p.name)) {
        value = kwargs[p.name];
        delete kwargs[p.name];
      } else if (p.default) {
        try {
          value = await this.ev(p.default, scope);
        } catch (e) {
          throw this.wrap(e, (flags as { line?: number }).line ?? p.default.line);
        }
      } else {
        value = new Undefined(p.name, MISSING, `parameter ${pyRepr(p.name)} was not provided`);
      }
      scope.vars.set(p.name, value);
    }
    if (flags.usesCaller) {
      scope.vars.set('caller', hasCaller ? caller : new Undefined('caller', MISSING, 'No caller defined'));
    } else if (hasCaller) {
      throw typeError(
        `macro '${name}' was invoked with two values for the special caller argument. This is most likely a bug.`,
      );
    }
    const extra = args.slice(params.length);
    if (flags.usesVarargs) scope.vars.set('varargs', tuple(extra));
    else if (extra.length) {
      throw typeError(`macro '${name}' takes not more than ${params.length} argument(s)`);
    }
    const extraKw = Object.entries(kwargs);
    if (flags.usesKwargs) scope.vars.set('kwargs', dictFrom(extraKw));
    else if (extraKw.length) throw typeError(`macro '${name}' takes no keyword argument '${extraKw[0]?.[0]}'`);
    try {
      return await this.renderBody(body, scope);
    } catch (e) {
      if (catchReturn && e instanceof ReturnSignal) return e.value;
      throw e;
    }
  }

  // --- names ----------------------------------------------------------------------------------

  private lookup(name: string, scope: Scope): unknown {
    for (let s: Scope | null = scope; s; s = s.parent) {
      if (s.vars.has(name)) return s.vars.get(name);
    }
    const root = scope.root;
    const ctx = root.ctx();
    const p = lookupProp(ctx, name);
    if (p.found && p.value !== undefined) return p.value;
    if (Object.prototype.hasOwnProperty.call(this.rt.globals, name)) return this.rt.globals[name];
    if (root.fallback?.has(name)) return root.fallback.get(name);
    return new Undefined(name);
  }

  // --- expressions ----------------------------------------------------------------------------

  async ev(e: Expr, scope: Scope): Promise<unknown> {
    switch (e.kind) {
      case 'const':
        return e.value;
      case 'name':
        return this.lookup(e.name, scope);
      case 'list': {
        const out: unknown[] = [];
        for (const item of e.items) out.push(await this.ev(item, scope));
        return out;
      }
      case 'tuple': {
        const out: unknown[] = [];
        for (const item of e.items) out.push(await this.ev(item, scope));
        return tuple(out);
      }
      case 'dict': {
        const m = new Map<unknown, unknown>();
        for (const { key, value } of e.items) {
          const k = await this.ev(key, scope);
          const v = await this.ev(value, scope);
          dictSet(m, k, v);
        }
        return m;
      }
      case 'getattr':
        return this.getattr(await this.ev(e.obj, scope), e.attr);
      case 'getitem': {
        const obj = await this.ev(e.obj, scope);
        if (e.key.kind === 'slice') {
          if (obj instanceof Undefined) return this.lenientUndefined ? obj : obj.fail();
          const start = e.key.start ? await this.ev(e.key.start, scope) : null;
          const stop = e.key.stop ? await this.ev(e.key.stop, scope) : null;
          const step = e.key.step ? await this.ev(e.key.step, scope) : null;
          return pySlice(obj, start, stop, step);
        }
        return this.getitem(obj, await this.ev(e.key, scope));
      }
      case 'slice':
        throw typeError('slice outside of a subscript');
      case 'call': {
        const fn = await this.ev(e.fn, scope);
        const { args, kwargs } = await this.evArgs(e, scope);
        return this.callValue(fn, args, kwargs, e.fn);
      }
      case 'filter': {
        const value = e.value ? await this.ev(e.value, scope) : new Undefined();
        const { args, kwargs } = await this.evArgs(e, scope);
        return this.callFilter(e.name, value, args, kwargs);
      }
      case 'test': {
        const value = await this.ev(e.value, scope);
        const { args, kwargs } = await this.evArgs(e, scope);
        return this.callTest(e.name, value, args, kwargs);
      }
      case 'unary': {
        const v = await this.ev(e.operand, scope);
        if (e.op === 'not') return !truthy(v);
        return e.op === '-' ? pyNeg(v) : pyPos(v);
      }
      case 'binary': {
        const l = await this.ev(e.left, scope);
        const r = await this.ev(e.right, scope);
        switch (e.op) {
          case '+':
            return pyAdd(l, r);
          case '-':
            return pySub(l, r);
          case '*':
            return pyMul(l, r);
          case '/':
            return pyDiv(l, r);
          case '//':
            return pyFloorDiv(l, r);
          case '%':
            return pyMod(l, r);
          case '**':
            return pyPow(l, r);
        }
        break;
      }
      case 'and': {
        const l = await this.ev(e.left, scope);
        return truthy(l) ? this.ev(e.right, scope) : l;
      }
      case 'or': {
        const l = await this.ev(e.left, scope);
        return truthy(l) ? l : this.ev(e.right, scope);
      }
      case 'concat': {
        let s = '';
        for (const item of e.items) s += pyStr(await this.ev(item, scope));
        return s;
      }
      case 'compare': {
        let left = await this.ev(e.first, scope);
        for (const { op, expr } of e.ops) {
          const right = await this.ev(expr, scope);
          if (!compare(op, left, right)) return false;
          left = right;
        }
        return true;
      }
      case 'condexpr': {
        if (truthy(await this.ev(e.test, scope))) return this.ev(e.then, scope);
        if (e.else) return this.ev(e.else, scope);
        return new Undefined(
          null,
          MISSING,
          `the inline if-expression on line ${e.line} evaluated to false and no else section was defined.`,
        );
      }
    }
    throw new Error(`unknown expression node`);
  }

  private async evArgs(c: CallArgs, scope: Scope): Promise<{ args: unknown[]; kwargs: Record<string, unknown> }> {
    const args: unknown[] = [];
    for (const a of c.args) args.push(await this.ev(a, scope));
    const kwargs: Record<string, unknown> = {};
    for (const k of c.kwargs) kwargs[k.name] = await this.ev(k.value, scope);
    if (c.dynArgs) {
      const extra = await this.ev(c.dynArgs, scope);
      args.push(...pyIter(extra));
    }
    if (c.dynKwargs) {
      const extra = await this.ev(c.dynKwargs, scope);
      if (!isMapping(extra)) throw typeError('argument after ** must be a mapping');
      for (const [k, v] of extra instanceof Map ? extra.entries() : Object.entries(extra)) kwargs[pyStr(k)] = v;
    }
    return { args, kwargs };
  }

  // --- attribute / item access ----------------------------------------------------------------

  getattr(obj: unknown, name: string): unknown {
    if (obj === undefined || obj instanceof Undefined) {
      if (this.lenientUndefined) return new Undefined(name);
      return obj instanceof Undefined ? obj.fail() : new Undefined(name).fail();
    }
    if (obj === null) return new Undefined(name, obj);
    if (typeof obj === 'string' || Array.isArray(obj)) {
      const m = pyMethod(obj, name, this);
      if (m) return m;
      // named-tuple fields (groupby's grouper/list)
      if (Array.isArray(obj) && !/^\d+$/.test(name) && Object.prototype.hasOwnProperty.call(obj, name)) {
        return (obj as unknown as Record<string, unknown>)[name];
      }
      return new Undefined(name, obj);
    }
    if (typeof obj === 'function' && (obj as Partial<MacroObject>).macroNode) {
      const node = (obj as MacroObject).macroNode;
      switch (name) {
        case 'name':
          return node.name;
        case 'arguments':
          return tuple(node.params.map((p) => p.name));
        case 'catch_kwargs':
          return node.usesKwargs;
        case 'catch_varargs':
          return node.usesVarargs;
        case 'caller':
          return node.usesCaller;
        default:
          return new Undefined(name, obj);
      }
    }
    if (obj instanceof Map) {
      const m = pyMethod(obj, name, this);
      if (m) return m;
      return mapHas(obj, name) ? mapGet(obj, name) : new Undefined(name, obj);
    }
    if (isPlainObject(obj)) {
      // Own keys; `in` also admits Proxy-backed namespaces (e.g. a package that could not be
      // fetched, whose every macro name resolves to an explanatory error).
      const has = Object.prototype.hasOwnProperty.call(obj, name) || (!(name in Object.prototype) && name in obj);
      const own = has ? obj[name] : undefined;
      if (typeof own === 'function') return own;
      const m = pyMethod(obj, name, this);
      if (m) return m;
      return own !== undefined ? own : new Undefined(name, obj);
    }
    if (obj instanceof Namespace) return obj.attrs.has(name) ? obj.attrs.get(name) : new Undefined(name, obj);
    if (typeof obj === 'object' || typeof obj === 'function') {
      if (name.startsWith('_')) {
        return new Undefined(
          name,
          obj,
          `access to attribute ${pyRepr(name)} of ${pyRepr(typeNameOf(obj))} object is unsafe.`,
        );
      }
      const p = lookupProp(obj, name);
      if (p.found && p.value !== undefined) {
        const v = p.value;
        if (typeof v === 'function') {
          if (isJinjaCallable(v)) return v;
          return (v as (...a: unknown[]) => unknown).bind(obj);
        }
        return v;
      }
      // Jinja2's getattr falls back to the item (`row.name` on a row indexed by column name).
      const gi = (obj as { __getitem__?: unknown }).__getitem__;
      if (typeof gi === 'function') {
        const v: unknown = (gi as (k: unknown) => unknown).call(obj, name);
        if (v !== undefined) return v;
      }
      return new Undefined(name, obj);
    }
    if (isNumeric(obj)) {
      const m = pyMethod(obj, name, this);
      if (m) return m;
    }
    return new Undefined(name, obj);
  }

  getitem(obj: unknown, key: unknown): unknown {
    if (obj === undefined || obj instanceof Undefined) {
      if (this.lenientUndefined) return new Undefined(typeof key === 'string' ? key : null);
      return obj instanceof Undefined ? obj.fail() : new Undefined().fail();
    }
    const k = key instanceof PyFloat ? key : key;
    if (typeof obj === 'string' || Array.isArray(obj)) {
      if (isInt(k) || typeof k === 'boolean') {
        const len = typeof obj === 'string' ? Array.from(obj).length : obj.length;
        let i = num(k);
        if (i < 0) i += len;
        if (i < 0 || i >= len) return new Undefined(num(k), obj);
        return typeof obj === 'string' ? Array.from(obj)[i] : obj[i];
      }
      if (typeof k === 'string') return this.getattr(obj, k);
      return new Undefined(
        null,
        obj,
        `${pyRepr(typeNameOf(obj))} indices must be integers or slices, not ${pyStr(typeof k)}`,
      );
    }
    if (isMapping(obj)) {
      if (mapHas(obj, k)) {
        const v = mapGet(obj, k);
        if (v !== undefined) return v;
      }
      if (typeof k === 'string') return this.getattr(obj, k);
      return new Undefined(k as string | number, obj);
    }
    if (obj instanceof Namespace) return typeof k === 'string' ? this.getattr(obj, k) : new Undefined(null, obj);
    if (obj !== null && typeof obj === 'object') {
      const gi = (obj as { __getitem__?: unknown }).__getitem__;
      if (typeof gi === 'function') {
        const v: unknown = (gi as (k: unknown) => unknown).call(obj, k);
        if (v !== undefined) return v;
      }
    }
    if (typeof k === 'string') return this.getattr(obj, k);
    return new Undefined(typeof k === 'number' ? k : null, obj);
  }

  // --- calls ----------------------------------------------------------------------------------

  async call(fn: unknown, args: unknown[], kwargs: Record<string, unknown> = {}): Promise<unknown> {
    return this.callValue(fn, args, kwargs, null);
  }

  private async callValue(
    fn: unknown,
    args: unknown[],
    kwargs: Record<string, unknown>,
    fnExpr: Expr | null,
  ): Promise<unknown> {
    if (fn === undefined || fn instanceof Undefined) {
      if (this.lenientUndefined) return fn ?? new Undefined();
      if (fn instanceof Undefined) fn.fail();
      throw typeError('undefined is not callable');
    }
    if (isJinjaCallable(fn)) return await fn(args, kwargs);
    if (fn instanceof LoopContext) {
      if (!fn.recurse) throw typeError("Tried to call non recursive loop.  Maybe you forgot the 'recursive' modifier.");
      return fn.recurse(args[0]);
    }
    if (typeof fn === 'function') {
      const all = Object.keys(kwargs).length ? [...args, kwargs] : args;
      return await (fn as (...a: unknown[]) => unknown)(...all);
    }
    const what = fnExpr && fnExpr.kind === 'name' ? ` (${fnExpr.name})` : '';
    throw typeError(`${pyRepr(typeNameOf(fn))} object is not callable${what}`);
  }

  async callFilter(
    name: string,
    value: unknown,
    args: unknown[],
    kwargs: Record<string, unknown> = {},
  ): Promise<unknown> {
    const f = this.rt.filters.get(name);
    if (!f) throw new PyError('TemplateAssertionError', `No filter named '${name}'.`);
    return await f(value, args, kwargs, this);
  }

  async callTest(
    name: string,
    value: unknown,
    args: unknown[],
    kwargs: Record<string, unknown> = {},
  ): Promise<boolean> {
    const t = this.rt.tests.get(name);
    if (!t) throw new PyError('TemplateAssertionError', `No test named '${name}'.`);
    return truthy(await t(value, args, kwargs, this));
  }

  private async evFilterChain(f: Expr, input: unknown, scope: Scope): Promise<unknown> {
    if (f.kind !== 'filter') return input;
    const value = f.value ? await this.evFilterChain(f.value, input, scope) : input;
    const { args, kwargs } = await this.evArgs(f, scope);
    return this.callFilter(f.name, value, args, kwargs);
  }
}

function dictSet(m: Map<unknown, unknown>, k: unknown, v: unknown): void {
  mapSet(m, k, v);
}

function compare(op: string, a: unknown, b: unknown): boolean {
  switch (op) {
    case '==':
      return pyEq(a, b);
    case '!=':
      return !pyEq(a, b);
    case '<':
      return pyCmp(a, b, 'lt') < 0;
    case '<=':
      return pyCmp(a, b, 'le') <= 0;
    case '>':
      return pyCmp(a, b, 'gt') > 0;
    case '>=':
      return pyCmp(a, b, 'ge') >= 0;
    case 'in':
      return pyContains(b, a);
    case 'notin':
      return !pyContains(b, a);
  }
  throw new Error(`unknown comparison ${op}`);
}

export { Cycler };
