import { EngineError } from '../../core/engine-error';
import { Environment, type Template } from '../jinja';
import { TemplateRuntimeError, TemplateSyntaxError } from '../jinja/errors';
import { callable } from '../jinja/values';
import type { TimeSlicer } from '../../core/time-slicer';
import type { LoadedProject, MissingPackage, SourceFile } from '../project/types';
import { dbtFilters } from './dbt-context';
import { GLOBAL_PACKAGE, globalMacroFiles } from './global-project';

/**
 * Every `{% macro %}` of every package, parsed once. For each render, `install()` puts them in
 * the context the way dbt resolves names: an unqualified name finds the root project's macro
 * first, then the calling node's own package, then the other packages; `pkg.macro` reaches a
 * package's namespace; a namespace whose package could not be fetched fails only when one of
 * its macros is called, naming it.
 */
export type RenderMode = 'parse' | 'run';

/** Global-project macros that live in the dbt context (TypeScript), reachable as `dbt.<name>` too. */
const GLOBAL_BUILTINS = ['run_query', 'statement', 'is_incremental', 'should_full_refresh', 'load_result', 'log'];

export interface MacroEntry {
  name: string;
  packageName: string;
  file: string;
  /** The macro's text (for fingerprints: a model changes when a macro it uses changes). */
  source: string;
  /** One parsed template per mode (parse mode uses dbt's lenient Undefined). */
  templates: Record<RenderMode, Template>;
}

export function templateName(packageName: string, file: string): string {
  return `${packageName}/${file}`;
}

/**
 * dbt renders a file's text stripped of leading/trailing whitespace; `stripped` says how many
 * lines were cut from the top of which template, so errors still name the file's own lines.
 */
export interface StrippedSource {
  template: string;
  leadingLines: number;
}

/** `text` as dbt renders it (Python's str.strip()) and the number of lines cut from its top. */
export function stripSource(text: string): { text: string; leadingLines: number } {
  // A scan, not a regex: `\s+$` retries at every run of whitespace in the text.
  const space = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);
  let start = 0;
  let leadingLines = 0;
  while (start < text.length && space(text.charCodeAt(start))) if (text.charCodeAt(start++) === 10) leadingLines++;
  let end = text.length;
  while (end > start && space(text.charCodeAt(end - 1))) end--;
  return { text: start === 0 && end === text.length ? text : text.slice(start, end), leadingLines };
}

function relocate(error: unknown, stripped?: StrippedSource): unknown {
  if (!stripped || !stripped.leadingLines) return error;
  if (error instanceof TemplateRuntimeError && error.templateName === stripped.template) {
    return new TemplateRuntimeError(error.templateName, error.line + stripped.leadingLines, error.detail, {
      cause: (error as { cause?: unknown }).cause,
    });
  }
  if (error instanceof TemplateSyntaxError && error.templateName === stripped.template)
    return new TemplateSyntaxError(error.templateName, error.line + stripped.leadingLines, error.detail);
  return error;
}

/** Translate a Jinja error into an EngineError that points at file:line. */
export function jinjaError(raw: unknown, o: { model?: string; file?: string }, stripped?: StrippedSource): EngineError {
  const error = relocate(raw, stripped);
  if (error instanceof EngineError) return error;
  if (error instanceof TemplateRuntimeError) {
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof EngineError) {
      return new EngineError(cause.code, `${cause.message} (${error.templateName}, line ${error.line})`, {
        cause,
        details: {
          ...cause.details,
          ...o,
          file: o.file ?? error.templateName,
          line: error.line,
          template: error.templateName,
        },
      });
    }
    return new EngineError(
      'TEMPLATE_RUNTIME',
      `${o.model ? `Model ${o.model}: ` : ''}${error.detail} (${error.templateName}, line ${error.line})`,
      {
        cause: error,
        details: { ...o, template: error.templateName, line: error.line },
      },
    );
  }
  if (error instanceof TemplateSyntaxError) {
    return new EngineError(
      'TEMPLATE_SYNTAX',
      `${o.model ? `Model ${o.model}: ` : ''}${error.detail} (${error.templateName}, line ${error.line})`,
      {
        cause: error,
        details: { ...o, template: error.templateName, line: error.line },
      },
    );
  }
  const e = error as Error;
  return new EngineError('TEMPLATE_RUNTIME', `${o.model ? `Model ${o.model}: ` : ''}${e?.message ?? String(error)}`, {
    cause: error,
    details: { ...o },
  });
}

function newEnvironments(): Record<RenderMode, Environment> {
  return {
    run: new Environment({ filters: { ...dbtFilters } }),
    parse: new Environment({ filters: { ...dbtFilters }, lenientUndefined: true }),
  };
}

/** A context's own way to bind a macro or make a package namespace (install puts it there). */
interface Binding {
  ctx: Record<string, unknown>;
  bind(entry: MacroEntry): unknown;
  namespace(pkgName: string): Record<string, unknown>;
}
const BINDING = Symbol('macro binding');

function bindingOf(ctx: Record<PropertyKey, unknown>): Binding {
  return ctx[BINDING] as Binding;
}

/** The global project's macro definitions per file (name, its own text), scanned once per process. */
const globalScans = new WeakMap<SourceFile, { name: string; source: string }[]>();

function globalDefinitions(f: SourceFile): { name: string; source: string }[] {
  let defs = globalScans.get(f);
  if (defs) return defs;
  const lines = f.text.split('\n');
  const found: { key: string; line: number }[] = [];
  lines.forEach((l, i) => {
    for (const m of l.matchAll(/\{%[-+]?\s*macro\s+([A-Za-z_]\w*)\s*\(/g)) found.push({ key: m[1]!, line: i + 1 });
  });
  defs = found.map((d, i) => {
    const next = found.slice(i + 1).find((x) => x.line > d.line)?.line ?? lines.length + 1;
    return { name: d.key, source: lines.slice(d.line - 1, next - 1).join('\n') };
  });
  globalScans.set(f, defs);
  return defs;
}

export class MacroRegistry {
  readonly envs: Record<RenderMode, Environment>;
  readonly byPackage = new Map<string, Map<string, MacroEntry>>();
  private readonly rootName: string;
  private readonly packageOrder: string[];
  private readonly missing: MissingPackage[];
  private readonly dispatchOrder: Map<string, string[]>;
  private readonly orders = new Map<string, string[]>();
  private readonly prototypes = new Map<string, object>();
  private readonly nsDescriptors = new Map<string, PropertyDescriptorMap>();

  /**
   * The registry of a project, built without holding the event loop: every macro file is parsed
   * first, one file per `slicer.tick()` (a syntax error is left for the constructor to report as
   * it always has), so the constructor then finds each one parsed. Parsed files stay in the
   * process-wide cache of the Jinja engine: a later run over the same files parses nothing.
   */
  static async create(project: LoadedProject, slicer: TimeSlicer): Promise<MacroRegistry> {
    const envs = newEnvironments();
    await slicer.tick();
    for (const f of globalMacroFiles()) {
      await slicer.tick();
      globalDefinitions(f);
    }
    for (const pkg of project.packages) {
      for (const f of pkg.macros) {
        await slicer.tick();
        try {
          envs.run.parse(f.text, templateName(pkg.name, f.path));
        } catch {
          return new MacroRegistry(project, envs);
        }
      }
    }
    await slicer.tick();
    return new MacroRegistry(project, envs);
  }

  constructor(project: LoadedProject, envs: Record<RenderMode, Environment> = newEnvironments()) {
    this.envs = envs;
    this.rootName = project.root.name;
    this.packageOrder = [...project.packages.map((p) => p.name), GLOBAL_PACKAGE];
    this.missing = project.missing;
    this.dispatchOrder = new Map(project.root.project.dispatch.map((d) => [d.macroNamespace, d.searchOrder]));
    const sources = [
      ...project.packages.map((p) => ({ name: p.name, macros: p.macros })),
      { name: GLOBAL_PACKAGE, macros: globalMacroFiles() },
    ];
    for (const pkg of sources) {
      const map = new Map<string, MacroEntry>();
      if (pkg.name === GLOBAL_PACKAGE) {
        this.addGlobal(map, pkg.macros);
        this.byPackage.set(pkg.name, map);
        continue;
      }
      for (const f of pkg.macros) {
        let templates: Record<RenderMode, Template>;
        try {
          const run = this.envs.run.parse(f.text, templateName(pkg.name, f.path));
          const parseEnv = this.envs.parse;
          let parsed: Template | null = null;
          // The parse-mode copy is only needed while parsing models: build it on first use.
          templates = {
            run,
            get parse(): Template {
              parsed ??= parseEnv.parse(f.text, templateName(pkg.name, f.path));
              return parsed;
            },
          };
        } catch (error) {
          throw jinjaError(error, { file: `${pkg.name}/${f.path}` });
        }
        // Each macro's own text: from its line to the next top-level definition, so editing one
        // macro changes the fingerprints of the models that use it, not of the whole file's users.
        const lines = f.text.split('\n');
        const starts = [...templates.run.macros].map((d) => d.line).sort((a, b) => a - b);
        for (const def of templates.run.macros) {
          // {% test %} blocks are macros named test_<name> (generic tests; dbt's namespace holds them too).
          if (def.kind !== 'macro' && def.kind !== 'test') continue;
          const next = starts.find((l) => l > def.line) ?? lines.length + 1;
          map.set(def.key, {
            name: def.key,
            packageName: pkg.name,
            file: f.path,
            source: lines.slice(def.line - 1, next - 1).join('\n'),
            templates,
          });
        }
      }
      this.byPackage.set(pkg.name, map);
    }
  }

  /**
   * The global project's files are ours and known to parse (a test renders every macro): their
   * macro names come from a scan (once per process), and each file is parsed the first time one
   * of its macros is used — most runs use a handful; a file parsed once stays in the Jinja
   * engine's process-wide cache, so later runs of the process parse none of them.
   */
  private addGlobal(map: Map<string, MacroEntry>, files: SourceFile[]): void {
    for (const f of files) {
      const name = templateName(GLOBAL_PACKAGE, f.path);
      const envs = this.envs;
      const cache: Partial<Record<RenderMode, Template>> = {};
      const templates = {
        get run(): Template {
          return (cache.run ??= envs.run.parse(f.text, name));
        },
        get parse(): Template {
          return (cache.parse ??= envs.parse.parse(f.text, name));
        },
      } as Record<RenderMode, Template>;
      for (const d of globalDefinitions(f))
        map.set(d.name, { name: d.name, packageName: GLOBAL_PACKAGE, file: f.path, source: d.source, templates });
    }
  }

  /** Package order for a node of `callingPackage`: root first, then its own package, then the others. */
  private searchOrder(callingPackage: string): string[] {
    let order = this.orders.get(callingPackage);
    if (order) return order;
    order = [this.rootName];
    if (callingPackage !== this.rootName) order.push(callingPackage);
    for (const p of this.packageOrder) if (!order.includes(p)) order.push(p);
    this.orders.set(callingPackage, order);
    return order;
  }

  find(name: string, callingPackage: string): MacroEntry | null {
    for (const p of this.searchOrder(callingPackage)) {
      const m = this.byPackage.get(p)?.get(name);
      if (m) return m;
    }
    return null;
  }

  /** adapter.dispatch: `postgres__x` then `default__x`, package by package. */
  dispatchEntry(name: string, namespace: string | null, callingPackage: string): MacroEntry | null {
    const order =
      namespace && this.dispatchOrder.has(namespace)
        ? this.dispatchOrder.get(namespace)!
        : namespace
          ? [this.rootName, namespace, ...this.searchOrder(callingPackage)]
          : this.searchOrder(callingPackage);
    for (const p of [...new Set(order)]) {
      for (const prefix of ['postgres', 'default']) {
        const m = this.byPackage.get(p)?.get(`${prefix}__${name}`);
        if (m) return m;
      }
      const plain = this.byPackage.get(p)?.get(name);
      if (plain && namespace === p) return plain;
    }
    return null;
  }

  /**
   * The macro names a node of `callingPackage` sees, as getters on one object shared by all its
   * contexts (the context's prototype: the context's own names win, as dbt's context does over
   * macros). Each getter binds the macro for the context it is read from (its receiver): so a
   * context costs nothing per macro until a macro is used. Package namespaces are getters too,
   * each made for its context the first time it is read.
   */
  private prototypeFor(callingPackage: string): object {
    let proto = this.prototypes.get(callingPackage);
    if (proto) return proto;
    proto = {};
    const names = new Set<string>();
    for (const map of this.byPackage.values()) for (const n of map.keys()) names.add(n);
    for (const name of names) {
      // `namespace` is the context's own (undefined, so Jinja's builtin shows through): a macro of
      // that name is defined on the context itself (install).
      if (name === 'namespace') continue;
      const entry = this.find(name, callingPackage);
      if (!entry) continue;
      Object.defineProperty(proto, name, {
        get(this: Record<PropertyKey, unknown>) {
          return bindingOf(this).bind(entry);
        },
        enumerable: true,
        configurable: true,
      });
    }
    for (const pkgName of this.byPackage.keys()) {
      if (Object.prototype.hasOwnProperty.call(proto, pkgName)) continue;
      Object.defineProperty(proto, pkgName, {
        get(this: Record<PropertyKey, unknown>) {
          return bindingOf(this).namespace(pkgName);
        },
        enumerable: true,
        configurable: true,
      });
    }
    this.prototypes.set(callingPackage, proto);
    return proto;
  }

  /** The getters of a package namespace's macros (shared by every context's namespace object). */
  private namespaceDescriptors(pkgName: string): PropertyDescriptorMap {
    let descriptors = this.nsDescriptors.get(pkgName);
    if (descriptors) return descriptors;
    descriptors = Object.create(null) as PropertyDescriptorMap;
    for (const entry of this.byPackage.get(pkgName)!.values()) {
      descriptors[entry.name] = {
        get(this: Record<PropertyKey, unknown>) {
          return bindingOf(this).bind(entry);
        },
        enumerable: true,
      };
    }
    // dbt's global macros this engine implements in the context itself (dbt.run_query, …).
    if (pkgName === GLOBAL_PACKAGE) {
      for (const name of GLOBAL_BUILTINS) {
        if (name in descriptors) continue;
        descriptors[name] = {
          get(this: Record<PropertyKey, unknown>) {
            return bindingOf(this).ctx[name];
          },
          enumerable: true,
        };
      }
    }
    this.nsDescriptors.set(pkgName, descriptors);
    return descriptors;
  }

  /** Define macro names and package namespaces on `ctx` (bound lazily, once per context). */
  install(
    ctx: Record<string, unknown>,
    callingPackage: string,
    mode: RenderMode,
    onUse?: (entry: MacroEntry) => void,
  ): void {
    const bound = new Map<Template, Record<string, unknown>>();
    const bind = (entry: MacroEntry): unknown => {
      onUse?.(entry);
      const template = entry.templates[mode];
      let macros = bound.get(template);
      if (!macros) {
        macros = template.bindMacros(ctx) as Record<string, unknown>;
        bound.set(template, macros);
      }
      return macros[entry.name];
    };
    const namespaces = new Map<string, Record<string, unknown>>();
    const namespace = (pkgName: string): Record<string, unknown> => {
      let ns = namespaces.get(pkgName);
      if (!ns) {
        // A plain object with the package's macros as its own getters (shared: they bind through
        // the namespace's own binding), as templates expect of a dict-like namespace.
        ns = {};
        Object.defineProperty(ns, BINDING, { value: binding });
        Object.defineProperties(ns, this.namespaceDescriptors(pkgName));
        namespaces.set(pkgName, ns);
      }
      return ns;
    };
    const binding: Binding = { ctx, bind, namespace };
    const proto = this.prototypeFor(callingPackage);
    Object.defineProperty(ctx, BINDING, { value: binding });
    Object.setPrototypeOf(ctx, proto);
    // A macro named `namespace` replaces the context's own `namespace` (Jinja's builtin).
    const ownNamespace = this.find('namespace', callingPackage);
    if (ownNamespace)
      Object.defineProperty(ctx, 'namespace', { get: () => bind(ownNamespace), enumerable: true, configurable: true });
    for (const m of this.missing) {
      if (Object.prototype.hasOwnProperty.call(ctx, m.namespace)) continue;
      if (Object.prototype.hasOwnProperty.call(proto, m.namespace)) continue;
      ctx[m.namespace] = new Proxy(
        {},
        {
          // `then` is read by await on any value: answering it would make the namespace a thenable.
          get: (_t, prop) =>
            typeof prop === 'string' && prop !== 'then' && prop !== 'toJSON' && prop !== 'constructor'
              ? callable(() => {
                  // Parsing goes on (a package missing offline is a warning, not a parse error);
                  // the model that calls the macro fails when it runs, naming the package.
                  if (mode === 'parse') return '';
                  throw new EngineError(
                    'PROJECT_PACKAGE',
                    `The macro ${m.namespace}.${prop} comes from the package ${m.spec}, which could not be fetched (${m.reason}). Connect to the network once so it can be downloaded and cached, or vendor it as a local package.`,
                    {
                      details: { macro: `${m.namespace}.${prop}`, package: m.spec },
                    },
                  );
                })
              : undefined,
          has: () => true,
        },
      );
    }
    ctx.__dispatch = (name: string, namespace: string | null): unknown => {
      const entry = this.dispatchEntry(name, namespace, callingPackage);
      if (!entry)
        throw new EngineError(
          'TEMPLATE_RUNTIME',
          `adapter.dispatch found no macro postgres__${name} or default__${name}${namespace ? ` in ${namespace}` : ''}.`,
          { details: { macro: name } },
        );
      return bind(entry);
    };
  }
}
