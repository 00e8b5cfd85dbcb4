import { EngineError } from '../../core/engine-error';
import { Environment, type Template } from '../jinja';
import { TemplateRuntimeError, TemplateSyntaxError } from '../jinja/errors';
import { callable } from '../jinja/values';
import type { LoadedProject, MissingPackage } from '../project/types';
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
  const lead = /^[ \t\n\r\v\f]*/.exec(text)![0];
  return { text: text.replace(/^[ \t\n\r\v\f]+|[ \t\n\r\v\f]+$/g, ''), leadingLines: lead.split('\n').length - 1 };
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

export class MacroRegistry {
  readonly envs: Record<RenderMode, Environment>;
  readonly byPackage = new Map<string, Map<string, MacroEntry>>();
  private readonly rootName: string;
  private readonly packageOrder: string[];
  private readonly missing: MissingPackage[];
  private readonly dispatchOrder: Map<string, string[]>;

  constructor(project: LoadedProject) {
    this.envs = {
      run: new Environment({ filters: { ...dbtFilters } }),
      parse: new Environment({ filters: { ...dbtFilters }, lenientUndefined: true }),
    };
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
   * macro names come from a scan, and each file is parsed the first time one of its macros is
   * used — most runs use a handful, and parsing all of them would cost every run ~20-50 ms.
   */
  private addGlobal(map: Map<string, MacroEntry>, files: { path: string; text: string }[]): void {
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
      const lines = f.text.split('\n');
      const defs: { key: string; line: number }[] = [];
      lines.forEach((l, i) => {
        for (const m of l.matchAll(/\{%[-+]?\s*macro\s+([A-Za-z_]\w*)\s*\(/g)) defs.push({ key: m[1]!, line: i + 1 });
      });
      defs.forEach((d, i) => {
        const next = defs.slice(i + 1).find((x) => x.line > d.line)?.line ?? lines.length + 1;
        map.set(d.key, {
          name: d.key,
          packageName: GLOBAL_PACKAGE,
          file: f.path,
          source: lines.slice(d.line - 1, next - 1).join('\n'),
          templates,
        });
      });
    }
  }

  /** Package order for a node of `callingPackage`: root first, then its own package, then the others. */
  private searchOrder(callingPackage: string): string[] {
    const order = [this.rootName];
    if (callingPackage !== this.rootName) order.push(callingPackage);
    for (const p of this.packageOrder) if (!order.includes(p)) order.push(p);
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
    const names = new Set<string>();
    for (const map of this.byPackage.values()) for (const n of map.keys()) names.add(n);
    for (const name of names) {
      if (Object.prototype.hasOwnProperty.call(ctx, name) && name !== 'namespace') continue;
      const entry = this.find(name, callingPackage);
      if (!entry) continue;
      Object.defineProperty(ctx, name, { get: () => bind(entry), enumerable: true, configurable: true });
    }
    for (const [pkgName, map] of this.byPackage) {
      const ns: Record<string, unknown> = {};
      for (const entry of map.values())
        Object.defineProperty(ns, entry.name, { get: () => bind(entry), enumerable: true });
      // dbt's global macros this engine implements in the context itself (dbt.run_query, …).
      if (pkgName === GLOBAL_PACKAGE) {
        for (const name of GLOBAL_BUILTINS)
          if (!(name in ns)) Object.defineProperty(ns, name, { get: () => ctx[name], enumerable: true });
      }
      if (!Object.prototype.hasOwnProperty.call(ctx, pkgName))
        Object.defineProperty(ctx, pkgName, { value: ns, enumerable: true, configurable: true });
    }
    for (const m of this.missing) {
      if (Object.prototype.hasOwnProperty.call(ctx, m.namespace)) continue;
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
