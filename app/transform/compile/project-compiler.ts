import path from 'node:path';
import { EngineError } from '../../core/engine-error';
import { TimeSlicer } from '../../core/time-slicer';
import type { Template } from '../jinja';
import { buildDbtContext, type ContextInput, type Recorder } from '../context/dbt-context';
import { jinjaError, MacroRegistry, stripSource, templateName, type RenderMode } from '../context/macro-registry';
import { Relation } from '../context/relation';
import { resolveRef } from '../graph/build-graph';
import type { ModelNode } from '../graph/types';
import type { PgSession } from '../materialize/pg-session';
import type { ConfigMap, DbtPackage } from '../project/types';
import { injectCtes } from './ephemeral';
import { mergeConfig, modelFolders, projectConfigFor } from './model-config';
import type { CompilerHost, CompilerOptions, SourceEntry } from './compiler-host';
import { seedNodes, snapshotNodes, sourceNodes, testNodes } from './resource-nodes';

export type { CompilerOptions, SourceEntry } from './compiler-host';

/**
 * Parse (recording context) and compile (live context) for every model of a loaded project.
 * Holds what both stages share: the macro registry, parsed model templates, sources, vars.
 */
export interface RenderForModel {
  node: ModelNode;
  session: PgSession;
  relation: Relation;
  isIncremental: boolean;
  fullRefresh: boolean;
}

const REF_RE = /\bref\s*\(\s*(['"])([^'"]+)\1\s*(?:,\s*(['"])([^'"]+)\3\s*)?\)/g;

export class ProjectCompiler implements CompilerHost {
  readonly registry: MacroRegistry;
  readonly nodes = new Map<string, ModelNode>();
  private sources: SourceEntry[] = [];
  private readonly pkgByName: Map<string, DbtPackage>;
  readonly warnings: string[] = [];
  /** `selected_resources` of this invocation (set once selection is known). */
  selectedResources: string[] = [];
  private graphCache: unknown = null;

  readonly slicer: TimeSlicer;

  /**
   * Prefer `ProjectCompiler.create`, which builds the macro registry without holding the event
   * loop; the constructor parses every macro file of the project at once.
   */
  constructor(
    readonly o: CompilerOptions,
    registry?: MacroRegistry,
  ) {
    this.slicer = o.slicer ?? new TimeSlicer();
    this.registry = registry ?? new MacroRegistry(o.project);
    this.pkgByName = new Map(o.project.packages.map((p) => [p.name, p]));
  }

  /** A compiler whose macro registry was built in time slices (MacroRegistry.create). */
  static async create(o: CompilerOptions): Promise<ProjectCompiler> {
    const slicer = o.slicer ?? new TimeSlicer();
    return new ProjectCompiler({ ...o, slicer }, await MacroRegistry.create(o.project, slicer));
  }

  varsFor(packageName: string): Record<string, unknown> {
    const root = this.o.project.root;
    const pkg = this.pkgByName.get(packageName);
    const out: Record<string, unknown> = {};
    const apply = (vars: Record<string, unknown>): void => {
      for (const [k, v] of Object.entries(vars)) {
        if (this.pkgByName.has(k) && v && typeof v === 'object' && !Array.isArray(v)) {
          if (k === packageName) Object.assign(out, v);
        } else out[k] = v;
      }
    };
    if (pkg && !pkg.isRoot) apply(pkg.project.vars);
    apply(root.project.vars);
    return { ...out, ...this.o.cliVars };
  }

  /** The relation a model builds: target schema (or `<target>_<custom>`), alias or name. */
  /** Schema/alias chosen by a root-project generate_schema_name / generate_alias_name macro. */
  private readonly overrides = new Map<string, { schema?: string; identifier?: string }>();

  relationFor(
    node: Pick<ModelNode, 'name' | 'config' | 'materialized'> & {
      uniqueId?: string;
      resourceType?: ModelNode['resourceType'];
    },
  ): Relation {
    const o = node.uniqueId ? this.overrides.get(node.uniqueId) : undefined;
    const schemaCfg = node.config.schema;
    // Snapshots' legacy target_schema / target_database are used as written.
    const legacySchema =
      node.resourceType === 'snapshot' && typeof node.config.target_schema === 'string' && node.config.target_schema
        ? node.config.target_schema
        : null;
    const legacyDb =
      node.resourceType === 'snapshot' && typeof node.config.target_database === 'string' && node.config.target_database
        ? node.config.target_database
        : null;
    const schema =
      legacySchema ??
      o?.schema ??
      (typeof schemaCfg === 'string' && schemaCfg
        ? `${this.o.target.schema}_${schemaCfg.trim()}`
        : this.o.target.schema);
    const database =
      legacyDb ??
      (typeof node.config.database === 'string' && node.config.database
        ? node.config.database
        : this.o.target.database);
    const identifier =
      o?.identifier ?? (typeof node.config.alias === 'string' && node.config.alias ? node.config.alias : node.name);
    const type =
      node.materialized === 'view'
        ? 'view'
        : node.materialized === 'materialized_view'
          ? 'materialized_view'
          : node.materialized === 'ephemeral'
            ? 'cte'
            : 'table';
    return new Relation({ database, schema, identifier, type, quote: this.o.project.root.project.quoting ?? {} });
  }

  /** dbt calls the root project's generate_schema_name / generate_alias_name when it defines them. */
  private async applyNameOverrides(node: ModelNode): Promise<void> {
    const rootName = this.o.project.root.name;
    const out: { schema?: string; identifier?: string } = {};
    for (const [macro, key, field] of [
      ['generate_schema_name', 'schema', 'schema'],
      ['generate_alias_name', 'alias', 'identifier'],
    ] as const) {
      const entry = this.registry.byPackage.get(rootName)?.get(macro);
      if (!entry) continue;
      const custom = typeof node.config[key] === 'string' ? (node.config[key] as string) : null;
      const ctx = this.context(
        this.baseContext({ mode: 'run', packageName: node.packageName, modelName: node.name, config: node.config }),
      );
      ctx.__custom = custom;
      ctx.__node = {
        name: node.name,
        unique_id: node.uniqueId,
        package_name: node.packageName,
        config: node.config,
        fqn: [node.packageName, ...node.fqn],
        resource_type: 'model',
      };
      const rendered = (
        await this.renderString(`{{ ${macro}(__custom, __node) }}`, `${rootName}/${macro}`, ctx, {
          model: node.name,
          file: `${node.packageName}/${node.file}`,
        })
      ).trim();
      if (rendered) out[field] = rendered;
    }
    if (out.schema || out.identifier) this.overrides.set(node.uniqueId, out);
  }

  baseContext(partial: Partial<ContextInput> & Pick<ContextInput, 'mode' | 'packageName'>): ContextInput {
    return {
      modelName: null,
      target: this.o.target,
      env: this.o.env,
      vars: this.varsFor(partial.packageName),
      invocationId: this.o.invocationId,
      runStartedAt: this.o.runStartedAt,
      logger: this.o.logger,
      config: {},
      thisRelation: null,
      isIncremental: false,
      fullRefresh: this.o.fullRefresh,
      session: null,
      resolveRef: (pkg, name) => this.refRelation(partial.packageName, pkg, name, null),
      resolveSource: (s, t) => this.sourceRelation(s, t),
      onWarning: (m) => this.warnings.push(m),
      graph: () => this.graphObject(),
      selectedResources: this.selectedResources,
      ...partial,
    };
  }

  /** dbt's `graph` context variable: the manifest's nodes and sources as plain dicts. */
  graphObject(): unknown {
    if (this.graphCache) return this.graphCache;
    const nodes: Record<string, unknown> = {};
    for (const n of this.nodes.values()) {
      if (!n.packageName || !n.file) continue;
      const rel = n.materialized === 'ephemeral' ? null : this.relationFor(n);
      nodes[n.uniqueId] = {
        unique_id: n.uniqueId,
        name: n.name,
        resource_type: n.uniqueId.split('.')[0],
        package_name: n.packageName,
        path: n.file.replace(/^models\//, ''),
        original_file_path: n.file,
        fqn: [n.packageName, ...(n.fqn ?? [n.name])],
        alias: rel?.identifier ?? n.name,
        schema: rel?.schema ?? this.o.target.schema,
        database: rel?.database ?? this.o.target.database,
        config: { ...n.config, materialized: n.materialized },
        tags: n.tags ?? [],
        description: n.description ?? '',
        refs: (n.refs ?? []).map((r) => ({ name: r.name, package: r.packageName, version: null })),
        sources: (n.sources ?? []).map((s) => [s.source, s.table]),
        depends_on: {
          nodes: [...(n.dependsOn ?? [])],
          macros: (n.macroSources ?? []).map((m) => `macro.${m.split('\0')[0]}`),
        },
        columns: Object.fromEntries(
          (n.columns ?? []).map((c) => [
            c.name,
            { name: c.name, description: c.description, data_type: c.dataType, meta: {}, tags: [] },
          ]),
        ),
        raw_code: n.rawSql,
        language: 'sql',
      };
    }
    const sources: Record<string, unknown> = {};
    for (const s of this.sources) {
      const id = `source.${this.o.project.root.name}.${s.source}.${s.table}`;
      sources[id] = {
        unique_id: id,
        name: s.table,
        source_name: s.source,
        resource_type: 'source',
        database: s.relation.database,
        schema: s.relation.schema,
        identifier: s.relation.identifier,
        fqn: [s.source, s.table],
      };
    }
    const graph = {
      nodes,
      sources,
      exposures: {},
      metrics: {},
      groups: {},
      semantic_models: {},
      saved_queries: {},
      unit_tests: {},
    };
    // Dependencies are known once the graph is built, i.e. once selection has happened.
    if (this.selectedResources.length) this.graphCache = graph;
    return graph;
  }

  /** A full context (dbt globals + macros) ready for rendering. */
  context(input: ContextInput): Record<string, unknown> {
    const ctx = buildDbtContext({
      ...input,
      dispatch: (name, ns) => (ctx.__dispatch as (n: string, s: string | null) => unknown)(name, ns),
    });
    const used = input.recorder?.macros;
    this.registry.install(
      ctx,
      input.packageName,
      input.mode,
      used ? (e) => used.add(`${e.packageName}.${e.name}`) : undefined,
    );
    return ctx;
  }

  async renderString(
    src: string,
    name: string,
    ctx: Record<string, unknown>,
    where: { model?: string; file?: string },
  ): Promise<string> {
    try {
      return await this.template(name, src, ctx.execute === true ? 'run' : 'parse').render(ctx);
    } catch (error) {
      throw jinjaError(error, where);
    }
  }

  /**
   * A model file's text renders as dbt renders it: stripped of leading and trailing whitespace
   * (dbt reads files with strip=True); errors still name the file's own line numbers.
   */
  async renderFile(
    node: Pick<ModelNode, 'rawSql' | 'packageName' | 'file' | 'name'>,
    ctx: Record<string, unknown>,
  ): Promise<string> {
    const name = templateName(node.packageName, node.file);
    const { text, leadingLines } = stripSource(node.rawSql);
    try {
      return await this.template(name, text, ctx.execute === true ? 'run' : 'parse').render(ctx);
    } catch (error) {
      throw jinjaError(
        error,
        { model: node.name, file: `${node.packageName}/${node.file}` },
        { template: name, leadingLines },
      );
    }
  }

  private template(name: string, src: string, mode: RenderMode): Template {
    return this.registry.envs[mode].parse(src, name);
  }

  /** ref() as seen from a node of `fromPackage` (no ephemeral CTE bookkeeping). */
  relationForRef(fromPackage: string, pkg: string | null, name: string): Relation {
    return this.refRelation(fromPackage, pkg, name, null);
  }

  relationForSource(source: string, table: string): Relation {
    return this.sourceRelation(source, table);
  }

  private refRelation(fromPackage: string, pkg: string | null, name: string, ctes: Set<string> | null): Relation {
    const target = resolveRef(this.nodes, { packageName: fromPackage }, { packageName: pkg, name });
    if (!target) {
      throw new EngineError(
        'MODEL_COMPILE',
        `ref('${pkg ? `${pkg}', '` : ''}${name}') names no model in this project or its packages.`,
        { details: { ref: name } },
      );
    }
    if (target.materialized === 'ephemeral') {
      ctes?.add(target.uniqueId);
      return new Relation({ identifier: `__dbt__cte__${target.name}`, type: 'cte' });
    }
    return this.relationFor(target);
  }

  private sourceRelation(source: string, table: string): Relation {
    const hit = this.sources.find((s) => s.source === source && s.table === table);
    if (!hit) {
      const known = [...new Set(this.sources.map((s) => `${s.source}.${s.table}`))].join(', ') || 'none';
      throw new EngineError(
        'MODEL_COMPILE',
        `source('${source}', '${table}') is not declared in any sources: YAML block (declared: ${known}).`,
        { details: { source: `${source}.${table}` } },
      );
    }
    return hit.relation;
  }

  sourceEntries(): readonly SourceEntry[] {
    return this.sources;
  }

  /**
   * Every node of the project: models, then seeds, snapshots and sources, then the tests on
   * them (resource-nodes.ts). Seeds/snapshots are known to ref() before models compile.
   */
  async parseAll(withTests = true): Promise<ModelNode[]> {
    const models = await this.parseModels();
    const others = [...seedNodes(this), ...sourceNodes(this)];
    for (const n of others) this.nodes.set(n.uniqueId, n);
    const snaps = await snapshotNodes(this);
    for (const n of snaps) this.nodes.set(n.uniqueId, n);
    const all = [...models, ...others, ...snaps];
    if (!withTests) return all;
    const tests = await testNodes(
      this,
      all.filter((n) => n.config.enabled !== false),
    );
    for (const n of tests) this.nodes.set(n.uniqueId, n);
    return [...all, ...tests];
  }

  /** Render source names/schemas (they may use env_var / var). */
  async resolveSources(): Promise<void> {
    const out: SourceEntry[] = [];
    for (const pkg of this.o.project.packages) {
      await this.slicer.tick();
      const ctx = this.context(this.baseContext({ mode: 'parse', packageName: pkg.name }));
      const r = (s: string | null, label: string, file: string): Promise<string | null> =>
        s === null
          ? Promise.resolve(null)
          : this.renderString(s, `${pkg.name}/${file}:${label}`, ctx, { file: `${pkg.name}/${file}` });
      for (const src of pkg.sources) {
        const database = (await r(src.database, 'database', src.file)) ?? this.o.target.database;
        const schema = (await r(src.schema, 'schema', src.file)) ?? src.name;
        for (const t of src.tables) {
          const name = (await r(t.name, 'name', src.file)) ?? t.name;
          const identifier = (await r(t.identifier, 'identifier', src.file)) ?? name;
          out.push({
            packageName: pkg.name,
            source: src.name,
            table: name,
            rawName: t.name,
            file: src.file,
            config: { ...src.config, ...t.config },
            relation: new Relation({ database, schema, identifier, type: 'table' }),
          });
        }
      }
    }
    this.sources = out;
  }

  /** Parse stage: render every model with the recording context. */
  /**
   * dbt renders dbt_project.yml when it loads it (vars and model configs may use env_var/var),
   * except hooks, which are rendered when they run.
   */
  async renderProjectFiles(): Promise<void> {
    for (const pkg of this.o.project.packages) {
      await this.slicer.tick();
      const ctx = this.context(this.baseContext({ mode: 'parse', packageName: pkg.name }));
      const where = { file: `${pkg.name}/dbt_project.yml` };
      const walk = async (v: unknown, key: string): Promise<unknown> => {
        if (/^\+?(pre|post)[-_]hook$/.test(key)) return v;
        if (typeof v === 'string') {
          if (!v.includes('{{') && !v.includes('{%')) return v;
          try {
            return await this.renderString(v, `${pkg.name}/dbt_project.yml:${key}`, ctx, where);
          } catch (error) {
            // Left as written; a model that uses it will show the problem in context.
            this.warnings.push(
              `${pkg.name}/dbt_project.yml: ${key} could not be rendered (${(error as Error).message}).`,
            );
            return v;
          }
        }
        if (Array.isArray(v)) return Promise.all(v.map((x) => walk(x, key)));
        if (v && typeof v === 'object') {
          const out: Record<string, unknown> = {};
          for (const [k, x] of Object.entries(v)) out[k] = await walk(x, k);
          return out;
        }
        return v;
      };
      pkg.project.vars = (await walk(pkg.project.vars, 'vars')) as Record<string, unknown>;
      pkg.project.models = (await walk(pkg.project.models, 'models')) as ConfigMap;
    }
  }

  async parseModels(): Promise<ModelNode[]> {
    await this.renderProjectFiles();
    await this.resolveSources();
    const root = this.o.project.root;
    const drafts: ModelNode[] = [];
    for (const pkg of this.o.project.packages) {
      for (const f of pkg.models) {
        const name = path.posix.basename(f.path, '.sql');
        const folders = modelFolders(pkg, f.path);
        const props = pkg.modelProps.find((m) => m.name === name);
        let config: ConfigMap = projectConfigFor(pkg, root, folders, name);
        if (props) config = mergeConfig(config, props.config);
        const node: ModelNode = {
          uniqueId: `model.${pkg.name}.${name}`,
          name,
          packageName: pkg.name,
          file: f.path,
          absPath: f.absPath,
          fqn: [...folders, name],
          rawSql: f.text,
          config,
          materialized: 'view',
          tags: [],
          refs: [],
          sources: [],
          dependsOn: [],
          description: props?.description ?? '',
          columns: props?.columns ?? [],
          constraints: props?.constraints ?? [],
          contractEnforced: false,
          unitTests: pkg.unitTests.filter((u) => u.model === name),
          parsedSql: '',
          macroSources: [],
          parseError: null,
          fingerprint: '',
        };
        const clash = this.nodes.get(node.uniqueId);
        if (clash) {
          throw new EngineError(
            'PROJECT_LOAD',
            `Two models of ${pkg.name} are named ${name}: ${clash.file} and ${f.path}. Model names must be unique within a package; rename one (or set a different alias and name).`,
            {
              details: { file: `${pkg.name}/${f.path}`, model: name },
            },
          );
        }
        drafts.push(node);
        this.nodes.set(node.uniqueId, node);
      }
    }
    // Materializations must be known before refs resolve to CTEs; parse everything first.
    for (const node of drafts) {
      await this.slicer.tick();
      const recorder: Recorder = { refs: [], sources: [], config: {}, macros: new Set() };
      const thisRelation = this.relationFor({
        ...node,
        materialized: typeof node.config.materialized === 'string' ? node.config.materialized : 'view',
      });
      const ctx = this.context(
        this.baseContext({
          mode: 'parse',
          packageName: node.packageName,
          modelName: node.name,
          recorder,
          config: node.config,
          thisRelation,
        }),
      );
      try {
        node.parsedSql = await this.renderFile(node, ctx);
      } catch (error) {
        node.parseError = error as Error;
        for (const m of node.rawSql.matchAll(REF_RE))
          recorder.refs.push(m[4] ? { packageName: m[2]!, name: m[4] } : { packageName: null, name: m[2]! });
      }
      node.config = mergeConfig(node.config, recorder.config);
      node.refs = recorder.refs;
      node.sources = recorder.sources;
      node.macroSources = [...(recorder.macros ?? [])].sort().map((key) => `${key}\0${this.macroText(key)}`);
      this.finishConfig(node);
      try {
        await this.applyNameOverrides(node);
      } catch (error) {
        node.parseError ??= error as Error;
      }
    }
    return drafts;
  }

  private macroText(key: string): string {
    const dot = key.indexOf('.');
    return this.registry.byPackage.get(key.slice(0, dot))?.get(key.slice(dot + 1))?.source ?? '';
  }

  private finishConfig(node: ModelNode): void {
    const c = node.config;
    node.materialized = typeof c.materialized === 'string' ? c.materialized : 'view';
    node.tags = Array.isArray(c.tags) ? c.tags.map(String) : typeof c.tags === 'string' ? [c.tags] : [];
    const contract = c.contract as { enforced?: unknown } | undefined;
    node.contractEnforced = contract?.enforced === true;
    const osc = typeof c.on_schema_change === 'string' ? c.on_schema_change : 'ignore';
    if (
      node.materialized === 'incremental' &&
      node.contractEnforced &&
      osc !== 'append_new_columns' &&
      osc !== 'fail'
    ) {
      // dbt refuses this combination at parse time; we fail the model with dbt's reason.
      node.parseError ??= new EngineError(
        'MODEL_COMPILE',
        `Model ${node.name} (${node.packageName}/${node.file}): on_schema_change is '${osc}', but an incremental model with an enforced contract must set on_schema_change to 'append_new_columns' or 'fail'.`,
        { details: { model: node.name, file: `${node.packageName}/${node.file}` } },
      );
    }
  }

  /** Compile stage: render with the live context; ephemeral parents become CTEs. */
  async compile(r: RenderForModel): Promise<{ sql: string; ctx: Record<string, unknown> }> {
    const ctes = new Set<string>();
    const ctx = this.runContext(r, ctes);
    const body = await this.renderFile(r.node, ctx);
    return { sql: await this.withEphemerals(body, ctes, r), ctx };
  }

  /** Ephemeral models a rendered body referred to (`ctes`), rendered and injected as CTEs. */
  async withEphemerals(body: string, ctes: Set<string>, r: RenderForModel): Promise<string> {
    const ordered: { name: string; sql: string }[] = [];
    const seen = new Set<string>();
    const visit = async (id: string): Promise<void> => {
      if (seen.has(id)) return;
      seen.add(id);
      const eph = this.nodes.get(id)!;
      const inner = new Set<string>();
      const ectx = this.runContext({ ...r, node: eph, relation: this.relationFor(eph), isIncremental: false }, inner);
      const sql = await this.renderFile(eph, ectx);
      for (const i of inner) await visit(i);
      ordered.push({ name: eph.name, sql });
    };
    for (const id of ctes) await visit(id);
    return ordered.length ? injectCtes(body, ordered) : body;
  }

  /** ref() that records ephemeral models into `ctes` (tests and unit tests inject them too). */
  refTrackingCtes(fromPackage: string, ctes: Set<string>): (pkg: string | null, name: string) => Relation {
    return (pkg, name) => this.refRelation(fromPackage, pkg, name, ctes);
  }

  runContext(r: RenderForModel, ctes: Set<string>): Record<string, unknown> {
    return this.context(
      this.baseContext({
        mode: 'run',
        packageName: r.node.packageName,
        modelName: r.node.name,
        config: r.node.config,
        thisRelation: r.relation,
        isIncremental: r.isIncremental,
        fullRefresh: r.fullRefresh,
        session: r.session,
        resolveRef: (pkg, name) => this.refRelation(r.node.packageName, pkg, name, ctes),
      }),
    );
  }

  /** A context for project hooks (on-run-start / on-run-end). */
  hookContext(packageName: string, session: PgSession, results: unknown[]): Record<string, unknown> {
    return this.context(this.baseContext({ mode: 'run', packageName, session, results }));
  }
}
