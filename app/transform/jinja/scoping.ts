/**
 * Jinja2's compile-time scoping (jinja2/idtracking.py), reduced to the one case where it
 * changes results: a name assigned in a frame (template, macro, loop iteration, call body,
 * set/filter block, with) whose first reference in that frame is the assignment, and which no
 * enclosing frame refers to, starts out *undefined* in that frame — it does not fall through to
 * the render context. So `{% for %}{{ b }}{% endfor %}{% set b = 1 %}` prints '' for `b` even
 * when the context has a `b`, while `{{ b }}{% set b = 1 %}` prints the context's `b`.
 * Every other case (a load before the store, a store only inside an `if`, a name an enclosing
 * frame knows) behaves like plain lexical fall-through, which the interpreter already does.
 */
import { macroKey, type CallArgs, type Expr, type MacroParam, type Stmt, type Target } from './nodes';

/** Names to pre-declare as Undefined when a frame executing `body` starts. */
const plans = new WeakMap<readonly Stmt[], readonly string[]>();

export function undefinedAtStart(body: readonly Stmt[]): readonly string[] {
  return plans.get(body) ?? [];
}

type Refs = Set<string>;

interface FrameState {
  refs: Refs;
  undefinedNames: Set<string>;
  /** Child frames, analysed after this frame is complete (as Jinja2 compiles them). */
  pending: (() => void)[];
}

function exprNames(e: Expr | null | undefined, out: string[]): void {
  if (!e) return;
  switch (e.kind) {
    case 'const':
      return;
    case 'name':
      out.push(e.name);
      return;
    case 'list':
    case 'tuple':
    case 'concat':
      for (const x of e.items) exprNames(x, out);
      return;
    case 'dict':
      for (const { key, value } of e.items) {
        exprNames(key, out);
        exprNames(value, out);
      }
      return;
    case 'getattr':
      exprNames(e.obj, out);
      return;
    case 'getitem':
      exprNames(e.obj, out);
      exprNames(e.key, out);
      return;
    case 'slice':
      exprNames(e.start, out);
      exprNames(e.stop, out);
      exprNames(e.step, out);
      return;
    case 'call':
      exprNames(e.fn, out);
      argNames(e, out);
      return;
    case 'filter':
      exprNames(e.value, out);
      argNames(e, out);
      return;
    case 'test':
      exprNames(e.value, out);
      argNames(e, out);
      return;
    case 'unary':
      exprNames(e.operand, out);
      return;
    case 'binary':
    case 'and':
    case 'or':
      exprNames(e.left, out);
      exprNames(e.right, out);
      return;
    case 'compare':
      exprNames(e.first, out);
      for (const o of e.ops) exprNames(o.expr, out);
      return;
    case 'condexpr':
      exprNames(e.test, out);
      exprNames(e.then, out);
      exprNames(e.else, out);
      return;
  }
}

function argNames(c: CallArgs, out: string[]): void {
  for (const a of c.args) exprNames(a, out);
  for (const k of c.kwargs) exprNames(k.value, out);
  exprNames(c.dynArgs, out);
  exprNames(c.dynKwargs, out);
}

function targetNames(t: Target, out: string[]): void {
  if (t.kind === 'name') out.push(t.name);
  else if (t.kind === 'tuple') for (const x of t.items) targetNames(x, out);
}

function analyzeFrame(
  body: readonly Stmt[],
  parents: readonly Refs[],
  params: readonly string[],
  preloads: readonly (Expr | null)[] = [],
): void {
  const st: FrameState = { refs: new Set(params), undefinedNames: new Set(), pending: [] };
  const chain = [...parents, st.refs];
  const parentHas = (name: string): boolean => parents.some((p) => p.has(name));
  const load = (name: string): void => {
    if (!st.refs.has(name) && !parentHas(name)) st.refs.add(name);
  };
  const loadExpr = (e: Expr | null | undefined): void => {
    const names: string[] = [];
    exprNames(e, names);
    for (const n of names) load(n);
  };
  const store = (name: string, inBranch: boolean): void => {
    if (st.refs.has(name)) return;
    st.refs.add(name);
    if (!parentHas(name) && !inBranch) st.undefinedNames.add(name);
  };
  const child = (
    childBody: readonly Stmt[],
    childParams: readonly string[],
    childPreloads: readonly (Expr | null)[] = [],
  ): void => {
    st.pending.push(() => analyzeFrame(childBody, chain, childParams, childPreloads));
  };
  const macroParams = (ps: readonly MacroParam[], extra: readonly string[]): string[] => [
    ...ps.map((p) => p.name),
    ...extra,
  ];

  const visit = (stmts: readonly Stmt[], inBranch: boolean): void => {
    for (const s of stmts) {
      switch (s.kind) {
        case 'text':
        case 'break':
        case 'continue':
          break;
        case 'print':
        case 'do':
          loadExpr(s.expr);
          break;
        case 'set': {
          loadExpr(s.expr);
          if (s.target.kind === 'nsattr') load(s.target.name);
          const names: string[] = [];
          targetNames(s.target, names);
          for (const n of names) store(n, inBranch);
          break;
        }
        case 'setblock': {
          const names: string[] = [];
          targetNames(s.target, names);
          if (s.target.kind === 'nsattr') load(s.target.name);
          for (const n of names) store(n, inBranch);
          child(s.body, []);
          break;
        }
        case 'macro':
          store(macroKey(s), inBranch);
          child(
            s.body,
            macroParams(s.params, ['caller', 'varargs', 'kwargs']),
            s.params.map((p) => p.default),
          );
          break;
        case 'callblock':
          loadExpr(s.call);
          child(
            s.body,
            macroParams(s.params, ['caller', 'varargs', 'kwargs']),
            s.params.map((p) => p.default),
          );
          break;
        case 'filterblock':
          for (const f of s.filters) loadExpr(f);
          child(s.body, []);
          break;
        case 'with': {
          for (const t of s.targets) loadExpr(t.value);
          const names: string[] = [];
          for (const t of s.targets) targetNames(t.target, names);
          child(s.body, names);
          break;
        }
        case 'for': {
          loadExpr(s.iter);
          const names: string[] = ['loop'];
          targetNames(s.target, names);
          child(s.body, names);
          if (s.else.length) child(s.else, []);
          break;
        }
        case 'if':
          for (const b of s.branches) {
            loadExpr(b.test);
            visit(b.body, true);
          }
          visit(s.else, true);
          break;
        case 'snapshot':
          visit(s.body, inBranch);
          break;
      }
    }
  };
  // Macro argument defaults are evaluated in the macro's frame before its body.
  for (const e of preloads) loadExpr(e);
  visit(body, false);
  if (st.undefinedNames.size) plans.set(body, [...st.undefinedNames]);
  for (const p of st.pending) p();
}

/** Computes the frame plans of a parsed template (call once per parse). */
export function analyzeScopes(body: readonly Stmt[]): void {
  analyzeFrame(body, [], []);
}
