/**
 * Recursive-descent parser following Jinja2 3.1's grammar (jinja2/parser.py), plus the tags
 * dbt adds: `do`, `break`/`continue`, `materialization`, `test`, `docs`, and `snapshot`.
 */
import { TemplateSyntaxError } from './errors';
import { tokenize, type Token } from './lexer';
import type { CallArgs, Expr, MacroNode, MacroParam, Stmt, Target } from './nodes';
import { analyzeScopes } from './scoping';
import { mkFloat } from './values';

const COMPARE_OPS = new Set(['==', '!=', '<', '<=', '>', '>=']);

function describe(t: Token): string {
  switch (t.type) {
    case 'eof':
      return 'end of template';
    case 'var_end':
      return 'end of print statement';
    case 'block_end':
      return 'end of statement block';
    case 'var_begin':
      return 'begin of print statement';
    case 'block_begin':
      return 'begin of statement block';
    case 'data':
      return 'template data / text';
    case 'string':
      return 'string';
    case 'integer':
      return 'integer';
    case 'float':
      return 'float';
    case 'name':
      return t.value;
    case 'op':
      return t.value;
    case 'error':
      return t.value;
  }
}

export class Parser {
  private tokens: Token[];
  private pos = 0;
  private loopDepth = 0;
  /** Innermost-last stack of open block tags, for end-of-template messages. */
  private tagStack: string[] = [];
  /** Innermost-last stack of the end tags each open body is looking for. */
  private endTagStack: string[][] = [];

  constructor(
    source: string,
    private readonly name: string,
  ) {
    this.tokens = tokenize(source, name);
    this.checkLexError(this.cur);
  }

  /** Jinja2 lexes lazily: a lexing error surfaces when the parser reaches that token. */
  private checkLexError(t: Token): void {
    if (t.type === 'error') throw new TemplateSyntaxError(this.name, t.line, t.value);
  }

  // --- token stream -----------------------------------------------------------------------

  private get cur(): Token {
    return this.tokens[this.pos] ?? (this.tokens[this.tokens.length - 1] as Token);
  }

  private look(n = 1): Token {
    const t = this.tokens[this.pos + n] ?? (this.tokens[this.tokens.length - 1] as Token);
    this.checkLexError(t);
    return t;
  }

  private next(): Token {
    const t = this.cur;
    if (this.pos < this.tokens.length - 1) this.pos++;
    this.checkLexError(this.cur);
    return t;
  }

  private fail(message: string, line = this.cur.line): never {
    throw new TemplateSyntaxError(this.name, line, message);
  }

  private isOp(v: string, t = this.cur): boolean {
    return t.type === 'op' && t.value === v;
  }

  private isName(v: string, t = this.cur): boolean {
    return t.type === 'name' && t.value === v;
  }

  private skipOp(v: string): boolean {
    if (this.isOp(v)) {
      this.next();
      return true;
    }
    return false;
  }

  private skipName(v: string): boolean {
    if (this.isName(v)) {
      this.next();
      return true;
    }
    return false;
  }

  private expectOp(v: string): Token {
    if (!this.isOp(v)) {
      if (this.cur.type === 'eof') this.fail(`unexpected end of template, expected '${v}'.`);
      this.fail(`expected token '${v}', got '${describe(this.cur)}'`);
    }
    return this.next();
  }

  private expectType(type: Token['type'], what: string): Token {
    if (this.cur.type !== type) {
      if (this.cur.type === 'eof') this.fail(`unexpected end of template, expected '${what}'.`);
      this.fail(`expected token '${what}', got '${describe(this.cur)}'`);
    }
    return this.next();
  }

  private expectName(): string {
    return this.expectType('name', 'name').value;
  }

  // --- templates and statements -------------------------------------------------------------

  parseTemplate(): Stmt[] {
    const body = this.subparse(null);
    return body;
  }

  private subparse(endTags: string[] | null): Stmt[] {
    if (endTags) this.endTagStack.push(endTags);
    try {
      return this.subparseInner(endTags);
    } finally {
      if (endTags) this.endTagStack.pop();
    }
  }

  private subparseInner(endTags: string[] | null): Stmt[] {
    const body: Stmt[] = [];
    for (;;) {
      const t = this.cur;
      if (t.type === 'eof') {
        if (endTags) this.failEof(endTags);
        return body;
      }
      if (t.type === 'data') {
        this.next();
        body.push({ kind: 'text', value: t.value, line: t.line });
      } else if (t.type === 'var_begin') {
        this.next();
        const expr = this.parseTuple({ withCondexpr: true });
        this.expectType('var_end', 'end of print statement');
        body.push({ kind: 'print', expr, line: t.line });
      } else if (t.type === 'block_begin') {
        this.next();
        if (endTags && this.cur.type === 'name' && endTags.includes(this.cur.value)) return body;
        const stmt = this.parseStatement(endTags);
        if (stmt) body.push(stmt);
      } else {
        this.fail(`unexpected '${describe(t)}'`);
      }
    }
  }

  private failEof(endTags: string[]): never {
    const expected = endTags.map((t) => `'${t}'`).join(' or ');
    const innermost = this.tagStack.at(-1);
    this.fail(
      `Unexpected end of template. Jinja was looking for the following tags: ${expected}.` +
        (innermost ? ` The innermost block that needs to be closed is '${innermost}'.` : ''),
    );
  }

  private failUnknownTag(tag: string, _endTags: string[] | null, line: number): never {
    let msg = `Encountered unknown tag '${tag}'.`;
    const looking = this.endTagStack.at(-1);
    if (looking) {
      const listed = looking.map((t) => `'${t}'`).join(' or ');
      if (this.endTagStack.some((tags) => tags.includes(tag))) {
        msg += ` You probably made a nesting mistake. Jinja is expecting this tag, but currently looking for ${listed}.`;
      } else msg += ` Jinja was looking for the following tags: ${listed}.`;
    }
    const innermost = this.tagStack.at(-1);
    if (innermost) msg += ` The innermost block that needs to be closed is '${innermost}'.`;
    this.fail(msg, line);
  }

  /** After a tag's header: `%}`, the body up to one of `endTags`; leaves the stream at that tag name. */
  private parseStatements(endTags: string[], dropNeedle: boolean): Stmt[] {
    this.skipOp(':');
    this.expectType('block_end', 'end of statement block');
    const body = this.subparse(endTags);
    if (this.cur.type === 'eof') this.failEof(endTags);
    if (dropNeedle) this.next();
    return body;
  }

  private endBlock(): void {
    this.expectType('block_end', 'end of statement block');
  }

  private parseStatement(endTags: string[] | null): Stmt | null {
    const t = this.cur;
    if (t.type !== 'name') this.fail('tag name expected');
    const line = t.line;
    this.tagStack.push(t.value);
    try {
      switch (t.value) {
        case 'if':
          return this.parseIf();
        case 'for':
          return this.parseFor();
        case 'set':
          return this.parseSet();
        case 'macro':
          return this.parseMacro('macro', 'endmacro');
        case 'test':
          return this.parseMacro('test', 'endtest');
        case 'materialization':
          return this.parseMaterialization();
        case 'docs':
          return this.parseDocs();
        case 'snapshot': {
          this.next();
          const name = this.expectName();
          const body = this.parseStatements(['endsnapshot'], true);
          this.endBlock();
          return { kind: 'snapshot', name, body, line };
        }
        case 'call':
          return this.parseCallBlock();
        case 'filter': {
          this.next();
          const filter = this.parseFilter(null, true);
          const body = this.parseStatements(['endfilter'], true);
          this.endBlock();
          return { kind: 'filterblock', filters: [filter], body, line };
        }
        case 'with':
          return this.parseWith();
        case 'do': {
          this.next();
          const expr = this.parseTuple({ withCondexpr: true });
          this.endBlock();
          return { kind: 'do', expr, line };
        }
        case 'break':
        case 'continue': {
          this.next();
          if (this.loopDepth === 0) this.fail(`'${t.value}' outside loop`, line);
          this.endBlock();
          return { kind: t.value, line };
        }
        case 'autoescape': {
          // Autoescaping is off in dbt; the block only groups its body.
          this.next();
          this.parseExpression();
          const body = this.parseStatements(['endautoescape'], true);
          this.endBlock();
          return { kind: 'if', branches: [{ test: { kind: 'const', value: true, line }, body }], else: [], line };
        }
        case 'block':
        case 'extends':
        case 'include':
        case 'import':
        case 'from':
          this.fail(`the '${t.value}' tag is not supported (dbt templates have no loader)`, line);
          break;
        default:
          this.tagStack.pop();
          this.failUnknownTag(t.value, endTags, line);
      }
    } finally {
      if (this.tagStack.at(-1) === t.value) this.tagStack.pop();
    }
    return null;
  }

  private parseIf(): Stmt {
    const line = this.next().line;
    const branches: { test: Expr; body: Stmt[] }[] = [];
    let elseBody: Stmt[] = [];
    let test = this.parseTuple({ withCondexpr: false });
    for (;;) {
      const body = this.parseStatements(['elif', 'else', 'endif'], false);
      branches.push({ test, body });
      const tag = this.next().value;
      if (tag === 'elif') {
        test = this.parseTuple({ withCondexpr: false });
        continue;
      }
      if (tag === 'else') elseBody = this.parseStatements(['endif'], true);
      break;
    }
    this.endBlock();
    return { kind: 'if', branches, else: elseBody, line };
  }

  private parseFor(): Stmt {
    const line = this.next().line;
    const target = this.parseAssignTarget({ extraEnd: ['in'] });
    if (!this.skipName('in')) this.fail(`expected token 'in', got '${describe(this.cur)}'`);
    const iter = this.parseTuple({ withCondexpr: false, extraEnd: ['recursive'] });
    let filter: Expr | null = null;
    if (this.skipName('if')) filter = this.parseExpression();
    const recursive = this.skipName('recursive');
    this.loopDepth++;
    const body = this.parseStatements(['endfor', 'else'], false);
    this.loopDepth--;
    let elseBody: Stmt[] = [];
    if (this.next().value === 'else') elseBody = this.parseStatements(['endfor'], true);
    this.endBlock();
    return { kind: 'for', target, iter, filter, recursive, body, else: elseBody, line };
  }

  private parseSet(): Stmt {
    const line = this.next().line;
    const target = this.parseAssignTarget({ withNamespace: true });
    if (this.skipOp('=')) {
      const expr = this.parseTuple({ withCondexpr: true });
      this.endBlock();
      return { kind: 'set', target, expr, line };
    }
    const filters: Expr[] = [];
    if (this.isOp('|')) filters.push(this.parseFilter(null, false));
    const body = this.parseStatements(['endset'], true);
    this.endBlock();
    return { kind: 'setblock', target, filters, body, line };
  }

  private parseWith(): Stmt {
    const line = this.next().line;
    const targets: { target: Target; value: Expr }[] = [];
    while (this.cur.type !== 'block_end') {
      if (targets.length) this.expectOp(',');
      const target = this.parseAssignTarget({});
      this.expectOp('=');
      targets.push({ target, value: this.parseExpression() });
    }
    const body = this.parseStatements(['endwith'], true);
    this.endBlock();
    return { kind: 'with', targets, body, line };
  }

  private parseSignature(): MacroParam[] {
    const params: MacroParam[] = [];
    this.expectOp('(');
    let sawDefault = false;
    while (!this.isOp(')')) {
      if (params.length) this.expectOp(',');
      const name = this.expectName();
      let def: Expr | null = null;
      if (this.skipOp('=')) {
        def = this.parseExpression();
        sawDefault = true;
      } else if (sawDefault) this.fail('non-default argument follows default argument');
      params.push({ name, default: def });
    }
    this.expectOp(')');
    return params;
  }

  private withLoopReset<T>(fn: () => T): T {
    const saved = this.loopDepth;
    this.loopDepth = 0;
    try {
      return fn();
    } finally {
      this.loopDepth = saved;
    }
  }

  private macroNode(
    flavour: MacroNode['flavour'],
    name: string,
    params: MacroParam[],
    body: Stmt[],
    line: number,
    adapter?: string,
  ): MacroNode {
    const used = usedNames(body);
    return {
      kind: 'macro',
      flavour,
      name,
      ...(adapter !== undefined ? { adapter } : {}),
      params,
      body,
      line,
      usesVarargs: used.has('varargs'),
      usesKwargs: used.has('kwargs'),
      usesCaller: used.has('caller'),
    };
  }

  private parseMacro(flavour: 'macro' | 'test', endTag: string): Stmt {
    const line = this.next().line;
    const name = this.expectName();
    const params = this.parseSignature();
    const body = this.withLoopReset(() => this.parseStatements([endTag], true));
    this.endBlock();
    return this.macroNode(flavour, name, params, body, line);
  }

  private parseMaterialization(): Stmt {
    const line = this.next().line;
    const name = this.expectName();
    let adapter = 'default';
    const params: MacroParam[] = [];
    while (this.skipOp(',')) {
      const arg = this.expectName();
      if (arg === 'default') continue;
      if (arg === 'adapter') {
        this.expectOp('=');
        const v = this.parseExpression();
        if (v.kind !== 'const' || typeof v.value !== 'string')
          this.fail('materialization adapter must be a string literal');
        adapter = v.value;
      } else if (arg === 'supported_languages') {
        this.expectOp('=');
        params.push({ name: arg, default: this.parseExpression() });
      } else this.fail(`materialization '${name}' received unknown argument '${arg}'`);
    }
    if (!params.some((p) => p.name === 'supported_languages')) {
      params.push({
        name: 'supported_languages',
        default: { kind: 'list', items: [{ kind: 'const', value: 'sql', line }], line },
      });
    }
    const body = this.withLoopReset(() => this.parseStatements(['endmaterialization'], true));
    this.endBlock();
    return this.macroNode('materialization', name, params, body, line, adapter);
  }

  private parseDocs(): Stmt {
    const line = this.next().line;
    const name = this.expectName();
    const body = this.withLoopReset(() => this.parseStatements(['enddocs'], true));
    this.endBlock();
    return this.macroNode('docs', name, [], body, line);
  }

  private parseCallBlock(): Stmt {
    const line = this.next().line;
    const params = this.isOp('(') ? this.parseSignature() : [];
    const call = this.parseExpression();
    if (call.kind !== 'call') this.fail('expected call', line);
    const body = this.withLoopReset(() => this.parseStatements(['endcall'], true));
    this.endBlock();
    const used = usedNames(body);
    return {
      kind: 'callblock',
      call,
      params,
      body,
      usesVarargs: used.has('varargs'),
      usesKwargs: used.has('kwargs'),
      usesCaller: used.has('caller'),
      line,
    };
  }

  // --- assignment targets -----------------------------------------------------------------------

  private parseAssignTarget(o: { extraEnd?: string[]; withNamespace?: boolean; nameOnly?: boolean }): Target {
    const line = this.cur.line;
    if (o.withNamespace && this.cur.type === 'name' && this.isOp('.', this.look())) {
      const name = this.next().value;
      this.next();
      const attr = this.expectName();
      return { kind: 'nsattr', name, attr, line };
    }
    if (o.nameOnly) return { kind: 'name', name: this.expectName(), line };
    // parse_tuple(simplified=True): names and parenthesised tuples of names
    const items: Target[] = [];
    let isTuple = false;
    for (;;) {
      if (items.length) this.expectOp(',');
      if (this.isTupleEnd(o.extraEnd ?? [])) break;
      items.push(this.parseTargetPrimary());
      if (this.isOp(',')) isTuple = true;
      else break;
    }
    if (!isTuple) {
      const first = items[0];
      if (!first) this.fail(`Expected an expression, got '${describe(this.cur)}'`);
      return first;
    }
    return { kind: 'tuple', items, line };
  }

  private parseTargetPrimary(): Target {
    const t = this.cur;
    if (t.type === 'name') {
      if (['true', 'false', 'none', 'True', 'False', 'None'].includes(t.value)) this.fail(`can't assign to 'Const'`);
      this.next();
      return { kind: 'name', name: t.value, line: t.line };
    }
    if (this.isOp('(')) {
      this.next();
      const inner = this.parseAssignTarget({});
      this.expectOp(')');
      return inner;
    }
    this.fail(`unexpected '${describe(t)}'`);
  }

  // --- expressions ------------------------------------------------------------------------------

  /**
   * Jinja2 3.1 also passes "extra end rules" (`in` for loop targets, `recursive`), but its
   * `test_any(extra_end_rules)` call never matches them, so `{% for a, in x %}` is an error
   * there. We do the same.
   */
  private isTupleEnd(_extraEnd: string[]): boolean {
    const t = this.cur;
    return t.type === 'var_end' || t.type === 'block_end' || this.isOp(')');
  }

  parseTuple(o: { withCondexpr: boolean; extraEnd?: string[]; explicitParens?: boolean }): Expr {
    const line = this.cur.line;
    const items: Expr[] = [];
    let isTuple = false;
    for (;;) {
      if (items.length) this.expectOp(',');
      if (this.isTupleEnd(o.extraEnd ?? [])) break;
      items.push(o.withCondexpr ? this.parseExpression() : this.parseOr());
      if (this.isOp(',')) isTuple = true;
      else break;
    }
    if (!isTuple) {
      const first = items[0];
      if (first) return first;
      if (!o.explicitParens) this.fail(`Expected an expression, got '${describe(this.cur)}'`);
    }
    return { kind: 'tuple', items, line };
  }

  parseExpression(withCondexpr = true): Expr {
    return withCondexpr ? this.parseCondexpr() : this.parseOr();
  }

  private parseCondexpr(): Expr {
    const line = this.cur.line;
    let expr1 = this.parseOr();
    while (this.skipName('if')) {
      const test = this.parseOr();
      const elseExpr = this.skipName('else') ? this.parseCondexpr() : null;
      expr1 = { kind: 'condexpr', test, then: expr1, else: elseExpr, line };
    }
    return expr1;
  }

  private parseOr(): Expr {
    const line = this.cur.line;
    let left = this.parseAnd();
    while (this.skipName('or')) left = { kind: 'or', left, right: this.parseAnd(), line };
    return left;
  }

  private parseAnd(): Expr {
    const line = this.cur.line;
    let left = this.parseNot();
    while (this.skipName('and')) left = { kind: 'and', left, right: this.parseNot(), line };
    return left;
  }

  private parseNot(): Expr {
    if (this.isName('not')) {
      const line = this.next().line;
      return { kind: 'unary', op: 'not', operand: this.parseNot(), line };
    }
    return this.parseCompare();
  }

  private parseCompare(): Expr {
    const first = this.parseMath1();
    const ops: { op: string; expr: Expr }[] = [];
    for (;;) {
      const t = this.cur;
      if (t.type === 'op' && COMPARE_OPS.has(t.value)) {
        this.next();
        ops.push({ op: t.value, expr: this.parseMath1() });
      } else if (this.skipName('in')) {
        ops.push({ op: 'in', expr: this.parseMath1() });
      } else if (this.isName('not') && this.isName('in', this.look())) {
        this.next();
        this.next();
        ops.push({ op: 'notin', expr: this.parseMath1() });
      } else break;
    }
    // Jinja2 locates a comparison at the token that follows it (observed in its tracebacks).
    return ops.length ? { kind: 'compare', first, ops, line: this.cur.line } : first;
  }

  private parseMath1(): Expr {
    const line = this.cur.line;
    let left = this.parseConcat();
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.next().value as '+' | '-';
      left = { kind: 'binary', op, left, right: this.parseConcat(), line };
    }
    return left;
  }

  private parseConcat(): Expr {
    const line = this.cur.line;
    const items = [this.parseMath2()];
    while (this.skipOp('~')) items.push(this.parseMath2());
    return items.length === 1 ? (items[0] as Expr) : { kind: 'concat', items, line };
  }

  private parseMath2(): Expr {
    const line = this.cur.line;
    let left = this.parsePow();
    while (this.isOp('*') || this.isOp('/') || this.isOp('//') || this.isOp('%')) {
      const op = this.next().value as '*' | '/' | '//' | '%';
      left = { kind: 'binary', op, left, right: this.parsePow(), line };
    }
    return left;
  }

  private parsePow(): Expr {
    const line = this.cur.line;
    let left = this.parseUnary();
    while (this.skipOp('**')) left = { kind: 'binary', op: '**', left, right: this.parseUnary(), line };
    return left;
  }

  private parseUnary(withFilter = true): Expr {
    const t = this.cur;
    let node: Expr;
    if (this.isOp('-') || this.isOp('+')) {
      this.next();
      node = { kind: 'unary', op: t.value as '-' | '+', operand: this.parseUnary(false), line: t.line };
    } else node = this.parsePrimary();
    node = this.parsePostfix(node);
    if (withFilter) node = this.parseFilterExpr(node);
    return node;
  }

  private parsePrimary(): Expr {
    const t = this.cur;
    const line = t.line;
    if (t.type === 'name') {
      this.next();
      if (t.value === 'true' || t.value === 'True') return { kind: 'const', value: true, line };
      if (t.value === 'false' || t.value === 'False') return { kind: 'const', value: false, line };
      if (t.value === 'none' || t.value === 'None') return { kind: 'const', value: null, line };
      return { kind: 'name', name: t.value, line };
    }
    if (t.type === 'string') {
      let value = this.next().value;
      while (this.cur.type === 'string') value += this.next().value;
      return { kind: 'const', value, line };
    }
    if (t.type === 'integer') {
      this.next();
      const v = t.value;
      const n = /^0[bB]/.test(v)
        ? parseInt(v.slice(2), 2)
        : /^0[oO]/.test(v)
          ? parseInt(v.slice(2), 8)
          : /^0[xX]/.test(v)
            ? parseInt(v.slice(2), 16)
            : Number(v);
      return { kind: 'const', value: n, line };
    }
    if (t.type === 'float') {
      this.next();
      return { kind: 'const', value: mkFloat(Number(t.value)), line };
    }
    if (this.isOp('(')) {
      this.next();
      const e = this.parseTuple({ withCondexpr: true, explicitParens: true });
      this.expectOp(')');
      return e;
    }
    if (this.isOp('[')) return this.parseList();
    if (this.isOp('{')) return this.parseDict();
    if (t.type === 'eof') this.fail('unexpected end of template, expected an expression');
    this.fail(`unexpected '${describe(t)}'`);
  }

  private parseList(): Expr {
    const line = this.expectOp('[').line;
    const items: Expr[] = [];
    while (!this.isOp(']')) {
      if (items.length) this.expectOp(',');
      if (this.isOp(']')) break;
      items.push(this.parseExpression());
    }
    this.expectOp(']');
    return { kind: 'list', items, line };
  }

  private parseDict(): Expr {
    const line = this.expectOp('{').line;
    const items: { key: Expr; value: Expr }[] = [];
    while (!this.isOp('}')) {
      if (items.length) this.expectOp(',');
      if (this.isOp('}')) break;
      const key = this.parseExpression();
      this.expectOp(':');
      items.push({ key, value: this.parseExpression() });
    }
    this.expectOp('}');
    return { kind: 'dict', items, line };
  }

  private parsePostfix(nodeIn: Expr): Expr {
    let node = nodeIn;
    for (;;) {
      if (this.isOp('.') || this.isOp('[')) node = this.parseSubscript(node);
      else if (this.isOp('(')) node = this.parseCall(node);
      else break;
    }
    return node;
  }

  private parseFilterExpr(nodeIn: Expr): Expr {
    let node = nodeIn;
    for (;;) {
      if (this.isOp('|')) node = this.parseFilter(node, false);
      else if (this.isName('is')) node = this.parseTest(node);
      else if (this.isOp('(')) node = this.parseCall(node);
      else break;
    }
    return node;
  }

  private parseSubscript(obj: Expr): Expr {
    const t = this.next();
    if (t.value === '.') {
      const a = this.cur;
      if (a.type === 'name') {
        this.next();
        return { kind: 'getattr', obj, attr: a.value, line: t.line };
      }
      if (a.type === 'integer') {
        this.next();
        return { kind: 'getitem', obj, key: { kind: 'const', value: Number(a.value), line: a.line }, line: t.line };
      }
      this.fail('expected name or number');
    }
    const args: Expr[] = [];
    while (!this.isOp(']')) {
      if (args.length) this.expectOp(',');
      args.push(this.parseSubscribed());
    }
    this.expectOp(']');
    const key: Expr = args.length === 1 ? (args[0] as Expr) : { kind: 'tuple', items: args, line: t.line };
    return { kind: 'getitem', obj, key, line: t.line };
  }

  private parseSubscribed(): Expr {
    const line = this.cur.line;
    const parts: (Expr | null)[] = [];
    if (this.isOp(':')) {
      this.next();
      parts.push(null);
    } else {
      const node = this.parseExpression();
      if (!this.isOp(':')) return node;
      this.next();
      parts.push(node);
    }
    if (this.isOp(':')) parts.push(null);
    else if (!this.isOp(']') && !this.isOp(',')) parts.push(this.parseExpression());
    else parts.push(null);
    if (this.isOp(':')) {
      this.next();
      parts.push(!this.isOp(']') && !this.isOp(',') ? this.parseExpression() : null);
    } else parts.push(null);
    return { kind: 'slice', start: parts[0] ?? null, stop: parts[1] ?? null, step: parts[2] ?? null, line };
  }

  private parseCallArgs(): CallArgs {
    const open = this.expectOp('(');
    const out: CallArgs = { args: [], kwargs: [], dynArgs: null, dynKwargs: null };
    let first = true;
    const ensure = (ok: boolean): void => {
      if (!ok) this.fail('invalid syntax for function call expression', open.line);
    };
    while (!this.isOp(')')) {
      if (!first) {
        this.expectOp(',');
        if (this.isOp(')')) break;
      }
      first = false;
      if (this.isOp('*')) {
        ensure(out.dynArgs === null && out.dynKwargs === null);
        this.next();
        out.dynArgs = this.parseExpression();
      } else if (this.isOp('**')) {
        ensure(out.dynKwargs === null);
        this.next();
        out.dynKwargs = this.parseExpression();
      } else if (this.cur.type === 'name' && this.isOp('=', this.look())) {
        ensure(out.dynKwargs === null);
        const key = this.next().value;
        this.next();
        out.kwargs.push({ name: key, value: this.parseExpression() });
      } else {
        ensure(out.dynArgs === null && out.dynKwargs === null && out.kwargs.length === 0);
        out.args.push(this.parseExpression());
      }
    }
    this.expectOp(')');
    return out;
  }

  private parseCall(fn: Expr): Expr {
    const line = this.cur.line;
    return { kind: 'call', fn, ...this.parseCallArgs(), line };
  }

  private dottedName(): string {
    let name = this.expectName();
    while (this.isOp('.')) {
      this.next();
      name += `.${this.expectName()}`;
    }
    return name;
  }

  /** `|name(args)` chains; with `value` null the chain applies to a block body. */
  private parseFilter(valueIn: Expr | null, startInline: boolean): Expr {
    let value = valueIn;
    let first = true;
    while (this.isOp('|') || (startInline && first)) {
      if (!(startInline && first)) this.next();
      first = false;
      const line = this.cur.line;
      const name = this.dottedName();
      const call: CallArgs = this.isOp('(')
        ? this.parseCallArgs()
        : { args: [], kwargs: [], dynArgs: null, dynKwargs: null };
      value = { kind: 'filter', value, name, ...call, line } as Expr;
    }
    return value as Expr;
  }

  private parseTest(value: Expr): Expr {
    const line = this.next().line;
    const negated = this.skipName('not');
    const name = this.dottedName();
    let call: CallArgs = { args: [], kwargs: [], dynArgs: null, dynKwargs: null };
    const t = this.cur;
    if (this.isOp('(')) call = this.parseCallArgs();
    else if (
      (['name', 'string', 'integer', 'float'].includes(t.type) || this.isOp('(') || this.isOp('[') || this.isOp('{')) &&
      !(t.type === 'name' && ['else', 'or', 'and'].includes(t.value))
    ) {
      if (this.isName('is')) this.fail('You cannot chain multiple tests with is');
      const arg = this.parsePostfix(this.parsePrimary());
      call = { ...call, args: [arg] };
    }
    const node: Expr = { kind: 'test', value, name, ...call, line };
    return negated ? { kind: 'unary', op: 'not', operand: node, line } : node;
  }
}

/** Names loaded anywhere below `nodes` (for Jinja2's varargs/kwargs/caller detection). */
function usedNames(nodes: unknown): Set<string> {
  const out = new Set<string>();
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) {
      for (const x of n) walk(x);
      return;
    }
    if (n === null || typeof n !== 'object') return;
    const rec = n as Record<string, unknown>;
    if (rec.kind === 'name' && typeof rec.name === 'string' && !('attr' in rec) && 'line' in rec) out.add(rec.name);
    for (const [k, v] of Object.entries(rec)) if (k !== 'value' || typeof v === 'object') walk(v);
  };
  walk(nodes);
  return out;
}

export function parse(source: string, name: string): Stmt[] {
  const body = new Parser(source, name).parseTemplate();
  analyzeScopes(body);
  return body;
}
