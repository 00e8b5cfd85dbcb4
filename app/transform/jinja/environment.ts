/**
 * Environment: filters, tests and globals, configured like dbt's Jinja2 environment
 * (SandboxedEnvironment + `do` + `loopcontrols` + dbt's materialization/test/docs tags;
 * autoescape off, trim_blocks/lstrip_blocks off, keep_trailing_newline off).
 */
import { PyError, typeError, valueError } from './errors';
import { BUILTIN_FILTERS } from './filters';
import { Interpreter, type JinjaFilter, type JinjaTest, type Runtime } from './interpreter';
import { macroKey, type MacroNode, type Stmt } from './nodes';
import { parse } from './parser';
import { BUILTIN_TESTS } from './tests';
import {
  Cycler,
  type JinjaCallable,
  Namespace,
  callable,
  dictFrom,
  isMapping,
  mapEntries,
  num,
  pyIter,
  pyStr,
  view,
} from './values';

export interface EnvironmentOptions {
  /** Extra filters (e.g. dbt's as_bool / as_native / as_number / as_text); override built-ins. */
  filters?: Record<string, JinjaFilter>;
  tests?: Record<string, JinjaTest>;
  /** Names visible to every template after the render context (the context wins). */
  globals?: Record<string, unknown>;
  /**
   * dbt's parse-phase Undefined (`create_undefined`): attribute access, item access and calls on
   * an undefined value give another Undefined instead of raising. Default: Jinja2's Undefined.
   */
  lenientUndefined?: boolean;
  /** Parsed-template cache size (entries); default 5000. */
  cacheSize?: number;
}

export interface MacroDefinition {
  /** The name as written (`{% macro name %}`, `{% test name %}`, `{% materialization name %}`). */
  name: string;
  kind: 'macro' | 'test' | 'materialization' | 'docs';
  /** The key under which bindMacros returns it: `name`, `test_<name>`, `materialization_<name>_<adapter>`, `docs_<name>`. */
  key: string;
  /** For materializations: the adapter (`default` when not given). */
  adapter?: string;
  params: { name: string; hasDefault: boolean }[];
  line: number;
}

export interface Template {
  readonly name: string;
  /** Top-level `{% macro %}` / `{% test %}` / `{% materialization %}` / `{% docs %}` blocks, in order. */
  readonly macros: readonly MacroDefinition[];
  /** Names of top-level `{% snapshot name %}` blocks (rendered inline by `render`). */
  readonly snapshots: readonly string[];
  /** Renders with Jinja2 semantics (macros defined in the template are visible after their definition). */
  render(context: Record<string, unknown>): Promise<string>;
  /**
   * This template's top-level macros as callables, with dbt semantics: free names inside a macro
   * resolve through `context` (then environment globals, then this file's own macros), and a
   * `return(x)` (a thrown ReturnSignal) makes the call evaluate to `x`. Pass a function to
   * resolve the context lazily (it may contain the returned callables themselves).
   */
  bindMacros(context: Record<string, unknown> | (() => Record<string, unknown>)): Record<string, JinjaCallable>;
}

/**
 * Parsed bodies, shared by every Environment of the process: a syntax tree depends only on the
 * source and its name (nothing at render time writes to it; scoping plans are keyed by it), so a
 * process that parses the same files again — a daemon running its transforms every few minutes,
 * each run with new environments — parses each (name, source) once. Most recently used last;
 * bounded by the total length of the sources held. Syntax errors are not cached (they throw).
 */
const BODY_CACHE_MAX_CHARS = 2 * 1024 * 1024;
const bodies = new Map<string, { body: Stmt[]; chars: number }>();
let bodyChars = 0;

function parsedBody(source: string, name: string): Stmt[] {
  const key = `${name}\0${source}`;
  const hit = bodies.get(key);
  if (hit) {
    bodies.delete(key);
    bodies.set(key, hit);
    return hit.body;
  }
  const body = parse(source, name);
  const chars = key.length;
  if (chars > BODY_CACHE_MAX_CHARS) return body;
  bodies.set(key, { body, chars });
  bodyChars += chars;
  for (const [k, v] of bodies) {
    if (bodyChars <= BODY_CACHE_MAX_CHARS) break;
    bodies.delete(k);
    bodyChars -= v.chars;
  }
  return body;
}

const MAX_RANGE = 100_000;

function pyRange(args: unknown[]): unknown[] {
  if (args.length === 0) throw typeError('range expected at least 1 argument, got 0');
  if (args.length > 3) throw typeError(`range expected at most 3 arguments, got ${args.length}`);
  for (const a of args) {
    if (typeof a !== 'number' && typeof a !== 'boolean')
      throw typeError(`'${typeof a === 'string' ? 'str' : 'float'}' object cannot be interpreted as an integer`);
    if (typeof a === 'number' && !Number.isInteger(a))
      throw typeError(`'float' object cannot be interpreted as an integer`);
  }
  const [start, stop, step] =
    args.length === 1 ? [0, num(args[0]), 1] : [num(args[0]), num(args[1]), args.length === 3 ? num(args[2]) : 1];
  if (step === 0) throw valueError('range() arg 3 must not be zero');
  const out: number[] = [];
  if (step > 0) for (let i = start; i < stop; i += step) out.push(i);
  else for (let i = start; i > stop; i += step) out.push(i);
  if (out.length > MAX_RANGE)
    throw new PyError(
      'OverflowError',
      `Range too big. The sandbox blocks ranges larger than MAX_RANGE (${MAX_RANGE}).`,
    );
  const label = step === 1 ? `range(${start}, ${stop})` : `range(${start}, ${stop}, ${step})`;
  return view(label, out);
}

class Joiner {
  private used = false;
  constructor(private readonly sep: string) {}
  call(): string {
    if (!this.used) {
      this.used = true;
      return '';
    }
    return this.sep;
  }
}

function builtinGlobals(): Record<string, unknown> {
  return {
    range: callable((args) => pyRange(args)),
    dict: callable((args, kwargs) => {
      const m = args.length
        ? isMapping(args[0])
          ? dictFrom(mapEntries(args[0]))
          : dictFrom(pyIter(args[0]).map((p) => pyIter(p) as [unknown, unknown]))
        : new Map();
      for (const [k, v] of Object.entries(kwargs)) m.set(k, v);
      return m;
    }),
    namespace: callable((args, kwargs) => {
      const ns = new Namespace();
      if (args.length && isMapping(args[0])) for (const [k, v] of mapEntries(args[0])) ns.attrs.set(pyStr(k), v);
      for (const [k, v] of Object.entries(kwargs)) ns.attrs.set(k, v);
      return ns;
    }),
    cycler: callable((args) => new Cycler(args)),
    joiner: callable((args, kwargs) => {
      const j = new Joiner(pyStr(args[0] ?? kwargs.sep ?? ', '));
      return callable(() => j.call());
    }),
  };
}

class ParsedTemplate implements Template {
  readonly macros: MacroDefinition[];
  readonly snapshots: string[];
  private readonly macroNodes: MacroNode[];

  constructor(
    readonly name: string,
    private readonly body: Stmt[],
    private readonly rt: Runtime,
  ) {
    this.macroNodes = body.filter((s): s is MacroNode => s.kind === 'macro');
    this.macros = this.macroNodes.map((m) => ({
      name: m.name,
      kind: m.flavour,
      key: macroKey(m),
      ...(m.adapter !== undefined ? { adapter: m.adapter } : {}),
      params: m.params.map((p) => ({ name: p.name, hasDefault: p.default !== null })),
      line: m.line,
    }));
    this.snapshots = body.flatMap((s) => (s.kind === 'snapshot' ? [s.name] : []));
  }

  render(context: Record<string, unknown>): Promise<string> {
    return new Interpreter(this.rt, this.name).render(this.body, context);
  }

  bindMacros(context: Record<string, unknown> | (() => Record<string, unknown>)): Record<string, JinjaCallable> {
    return new Interpreter(this.rt, this.name).bindMacros(this.macroNodes, context, macroKey);
  }
}

export class Environment {
  readonly filters: Map<string, JinjaFilter>;
  readonly tests: Map<string, JinjaTest>;
  readonly globals: Record<string, unknown>;
  private readonly rt: Runtime;
  private readonly cache = new Map<string, Map<string, Template>>();
  private cached = 0;
  private readonly cacheSize: number;

  constructor(opts: EnvironmentOptions = {}) {
    this.filters = new Map(Object.entries({ ...BUILTIN_FILTERS, ...opts.filters }));
    this.tests = new Map(Object.entries({ ...BUILTIN_TESTS, ...opts.tests }));
    this.tests.set('filter', (v) => typeof v === 'string' && this.filters.has(v));
    this.tests.set('test', (v) => typeof v === 'string' && this.tests.has(v));
    this.globals = { ...builtinGlobals(), ...opts.globals };
    this.rt = {
      filters: this.filters,
      tests: this.tests,
      globals: this.globals,
      lenientUndefined: opts.lenientUndefined ?? false,
    };
    this.cacheSize = opts.cacheSize ?? 5000;
  }

  /** Parses (cached by name + source). Throws TemplateSyntaxError(name, line, message). */
  parse(source: string, name: string): Template {
    const byName = this.cache.get(name);
    const hit = byName?.get(source);
    if (hit) return hit;
    const tpl = new ParsedTemplate(name, parsedBody(source, name), this.rt);
    if (this.cached >= this.cacheSize) {
      this.cache.clear();
      this.cached = 0;
    }
    let m = byName;
    if (!m) {
      m = new Map();
      this.cache.set(name, m);
    }
    m.set(source, tpl);
    this.cached++;
    return tpl;
  }

  /** Parses and renders in one step. */
  async renderString(source: string, context: Record<string, unknown>, name = '<string>'): Promise<string> {
    return this.parse(source, name).render(context);
  }

  /** A copy of this environment with other options (shares nothing mutable). */
  withOptions(opts: EnvironmentOptions): Environment {
    return new Environment({
      lenientUndefined: opts.lenientUndefined ?? this.rt.lenientUndefined,
      cacheSize: opts.cacheSize ?? this.cacheSize,
      filters: { ...Object.fromEntries(this.filters), ...opts.filters },
      tests: { ...Object.fromEntries(this.tests), ...opts.tests },
      globals: { ...this.globals, ...opts.globals },
    });
  }
}
