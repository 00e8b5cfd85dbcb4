/** Syntax tree produced by the parser and walked by the interpreter. */

export interface CallArgs {
  args: Expr[];
  kwargs: { name: string; value: Expr }[];
  dynArgs: Expr | null;
  dynKwargs: Expr | null;
}

export type Expr = { line: number } & (
  | { kind: 'const'; value: unknown }
  | { kind: 'name'; name: string }
  | { kind: 'list'; items: Expr[] }
  | { kind: 'tuple'; items: Expr[] }
  | { kind: 'dict'; items: { key: Expr; value: Expr }[] }
  | { kind: 'getattr'; obj: Expr; attr: string }
  | { kind: 'getitem'; obj: Expr; key: Expr }
  | { kind: 'slice'; start: Expr | null; stop: Expr | null; step: Expr | null }
  | ({ kind: 'call'; fn: Expr } & CallArgs)
  | ({ kind: 'filter'; value: Expr | null; name: string } & CallArgs)
  | ({ kind: 'test'; value: Expr; name: string } & CallArgs)
  | { kind: 'unary'; op: 'not' | '-' | '+'; operand: Expr }
  | { kind: 'binary'; op: '+' | '-' | '*' | '/' | '//' | '%' | '**'; left: Expr; right: Expr }
  | { kind: 'and' | 'or'; left: Expr; right: Expr }
  | { kind: 'concat'; items: Expr[] }
  | { kind: 'compare'; first: Expr; ops: { op: string; expr: Expr }[] }
  | { kind: 'condexpr'; test: Expr; then: Expr; else: Expr | null }
);

/** Assignment targets: a name, `ns.attr`, or a (nested) tuple of targets. */
export type Target =
  | { kind: 'name'; name: string; line: number }
  | { kind: 'nsattr'; name: string; attr: string; line: number }
  | { kind: 'tuple'; items: Target[]; line: number };

export interface MacroParam {
  name: string;
  default: Expr | null;
}

export interface MacroNode {
  kind: 'macro';
  /** macro | test | materialization | docs */
  flavour: 'macro' | 'test' | 'materialization' | 'docs';
  name: string;
  /** For materializations: the adapter (`default` when not given). */
  adapter?: string;
  params: MacroParam[];
  body: Stmt[];
  line: number;
  /** Whether the body refers to varargs / kwargs / caller (Jinja2 only accepts extras then). */
  usesVarargs: boolean;
  usesKwargs: boolean;
  usesCaller: boolean;
}

export type Stmt = { line: number } & (
  | { kind: 'text'; value: string }
  | { kind: 'print'; expr: Expr }
  | { kind: 'if'; branches: { test: Expr; body: Stmt[] }[]; else: Stmt[] }
  | {
      kind: 'for';
      target: Target;
      iter: Expr;
      filter: Expr | null;
      recursive: boolean;
      body: Stmt[];
      else: Stmt[];
    }
  | { kind: 'set'; target: Target; expr: Expr }
  | { kind: 'setblock'; target: Target; filters: Expr[]; body: Stmt[] }
  | MacroNode
  | {
      kind: 'callblock';
      call: Expr;
      params: MacroParam[];
      body: Stmt[];
      usesVarargs: boolean;
      usesKwargs: boolean;
      usesCaller: boolean;
    }
  | { kind: 'filterblock'; filters: Expr[]; body: Stmt[] }
  | { kind: 'with'; targets: { target: Target; value: Expr }[]; body: Stmt[] }
  | { kind: 'do'; expr: Expr }
  | { kind: 'break' }
  | { kind: 'continue' }
  | { kind: 'snapshot'; name: string; body: Stmt[] }
);

/** The name a macro-like block is bound to: `name`, `test_<name>`, `materialization_<name>_<adapter>`, `docs_<name>`. */
export function macroKey(m: MacroNode): string {
  switch (m.flavour) {
    case 'macro':
      return m.name;
    case 'test':
      return `test_${m.name}`;
    case 'materialization':
      return `materialization_${m.name}_${m.adapter ?? 'default'}`;
    case 'docs':
      return `docs_${m.name}`;
  }
}
