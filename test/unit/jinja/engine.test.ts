/**
 * Focused tests of what the corpus cannot show: asynchronous globals, dbt's return(),
 * macros bound across templates, error locations, options and JS interop.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import {
  Environment,
  Namespace,
  PyFloat,
  ReturnSignal,
  TemplateRuntimeError,
  TemplateSyntaxError,
  callable,
  toJs,
} from '../../../app/transform/jinja';

const env = new Environment();
const render = (src: string, ctx: Record<string, unknown> = {}, e: Environment = env): Promise<string> =>
  e.parse(src, 'test.sql').render(ctx);

/** dbt's return(): throws, the enclosing macro call evaluates to the value. */
const dbtReturn = callable(([value]) => {
  throw new ReturnSignal(value);
});

describe('asynchronous globals', () => {
  const slowDouble = callable(async ([x]) => {
    await sleep(2);
    return (x as number) * 2;
  });

  test('a Promise-returning global is a plain value in expressions, filters, tests and loops', async () => {
    const out = await render(
      '{{ twice(2) + 1 }}|{{ [1, twice(3)]|sum }}|{{ twice(4) is even }}|{% for i in range(twice(1)) %}{{ i }}{% endfor %}|{{ "x" * twice(1) }}|{% if twice(0) %}t{% else %}f{% endif %}',
      { twice: slowDouble },
    );
    assert.equal(out, '5|7|True|01|xx|f');
  });

  test('async globals inside macros, as filter arguments and as macro defaults', async () => {
    const out = await render(
      '{% macro m(a, b=twice(5)) %}{{ a }}/{{ b }}/{{ twice(a) }}{% endmacro %}{{ m(twice(1)) }} {{ "ab"|replace("b", twice(21)) }}',
      { twice: slowDouble },
    );
    assert.equal(out, '2/10/4 a42');
  });

  test('statement / load_result pattern: the call block body is sent to an async query and read back', async () => {
    const results = new Map<string, unknown>();
    const executed: string[] = [];
    const statement = callable(async (args, kwargs) => {
      const caller = kwargs.caller as (a: unknown[], k: Record<string, unknown>) => Promise<unknown>;
      const sql = String(await caller([], {}));
      executed.push(sql.trim());
      await sleep(1);
      if (kwargs.fetch_result) results.set(String(args[0]), { table: { rows: [[`max of ${sql.trim()}`]] } });
      return '';
    });
    const loadResult = callable(([name]) => results.get(String(name)) ?? null);
    const src = `{% macro max_existing(field) %}
  {%- call statement('max', fetch_result=True) -%}
    select max({{ field }}) from t
  {%- endcall -%}
  {%- set r = load_result('max') -%}
  {{ return(r.table.rows[0][0]) }}
{%- endmacro %}where x > '{{ max_existing('saved_timestamp') }}'`;
    const out = await render(src, { statement, load_result: loadResult, return: dbtReturn });
    assert.equal(out, "where x > 'max of select max(saved_timestamp) from t'");
    assert.deepEqual(executed, ['select max(saved_timestamp) from t']);
  });

  test('renders of one template run concurrently without sharing state', async () => {
    const tpl = env.parse(
      '{% set ns = namespace(n=0) %}{% for i in range(3) %}{% set ns.n = ns.n + slow(i) %}{% endfor %}{{ who }}={{ ns.n }}',
      'concurrent',
    );
    const slow = callable(async ([i]) => {
      await sleep(3 - (i as number));
      return i;
    });
    const outs = await Promise.all(['a', 'b', 'c'].map((who) => tpl.render({ who, slow })));
    assert.deepEqual(outs, ['a=3', 'b=3', 'c=3']);
  });
});

describe("dbt's return()", () => {
  test('a macro evaluates to the returned value (not its output)', async () => {
    const out = await render(
      '{% macro cols() %}ignored output{% do return(["a", "b"]) %}{% endmacro %}{{ cols() + ["c"] }} {{ cols()|length }}',
      { return: dbtReturn },
    );
    assert.equal(out, "['a', 'b', 'c'] 2");
  });

  test('return from inside a loop and nested macro calls', async () => {
    const out = await render(
      `{% macro find(l, v) %}{% for x in l %}{% if x == v %}{{ return(loop.index) }}{% endif %}{% endfor %}{{ return(none) }}{% endmacro %}
{%- macro outer() %}{{ return(find([5, 6, 7], 6) * 10) }}{% endmacro -%}
{{ outer() }} {{ find([1], 9) }}`,
      { return: dbtReturn },
    );
    assert.equal(out, '20 None');
  });

  test('return() outside any macro propagates out of render as a ReturnSignal', async () => {
    await assert.rejects(
      render('{{ return(1) }}', { return: dbtReturn }),
      (e: unknown) => e instanceof ReturnSignal && e.value === 1,
    );
  });
});

describe('bindMacros (dbt macro namespaces)', () => {
  test('macros from several files and a package namespace call each other through the context', async () => {
    const fileA = env.parse(
      `{% macro model_sql(t) -%}
select {{ cols() | join(', ') }} from {{ pkg.quote(t) }}{{ _suffix() }}
{%- endmacro %}
{% macro _suffix() %} -- private{% endmacro %}`,
      'macros/a.sql',
    );
    const fileB = env.parse('{% macro cols() %}{{ return(["x", "y"]) }}{% endmacro %}', 'macros/b.sql');
    const pkgFile = env.parse('{% macro quote(s) %}"{{ s }}"{% endmacro %}', 'dbt_packages/pkg/macros/q.sql');
    let ctx: Record<string, unknown> = {};
    const getCtx = (): Record<string, unknown> => ctx;
    const pkg = pkgFile.bindMacros(getCtx);
    ctx = { return: dbtReturn, pkg, ...fileA.bindMacros(getCtx), ...fileB.bindMacros(getCtx) };
    const model = env.parse('{{ model_sql("events") }}', 'models/m.sql');
    assert.equal(await model.render(ctx), 'select x, y from "events" -- private');
    assert.deepEqual(
      fileA.macros.map((m) => [m.name, m.key, m.params.map((p) => p.name)]),
      [
        ['model_sql', 'model_sql', ['t']],
        ['_suffix', '_suffix', []],
      ],
    );
  });

  test('a context entry overrides a sibling macro of the same file (dbt dispatch/override)', async () => {
    const file = env.parse('{% macro a() %}[{{ b() }}]{% endmacro %}{% macro b() %}original{% endmacro %}', 'm.sql');
    const withOverride = file.bindMacros({ b: callable(() => 'override') });
    assert.equal(await withOverride.a?.([], {}), '[override]');
    const plain = file.bindMacros({});
    assert.equal(await plain.a?.([], {}), '[original]');
  });

  test('test and materialization blocks are exposed under dbt-style keys', async () => {
    const file = env.parse(
      `{% test not_negative(model, column_name) %}select * from {{ model }} where {{ column_name }} < 0{% endtest %}
{% materialization raw_sql, default %}{{ adapter.commit() }}{% endmaterialization %}
{% materialization table, adapter='postgres' %}x{% endmaterialization %}`,
      'macros/t.sql',
    );
    assert.deepEqual(
      file.macros.map((m) => [m.kind, m.key, m.adapter ?? null]),
      [
        ['test', 'test_not_negative', null],
        ['materialization', 'materialization_raw_sql_default', 'default'],
        ['materialization', 'materialization_table_postgres', 'postgres'],
      ],
    );
    const bound = file.bindMacros({});
    assert.equal(await bound.test_not_negative?.(['t', 'c'], {}), 'select * from t where c < 0');
  });

  test('snapshot blocks render their body and are listed', async () => {
    const file = env.parse('{% snapshot snap %}select {{ 1 }}{% endsnapshot %}', 'snapshots/s.sql');
    assert.deepEqual(file.snapshots, ['snap']);
    assert.equal(await file.render({}), 'select 1');
  });
});

describe('errors carry the template name and line', () => {
  test('syntax errors', () => {
    assert.throws(
      () => env.parse('select 1\n{% if x %}\n  {{ y + }}\n{% endif %}', 'models/bad.sql'),
      (e: unknown) => e instanceof TemplateSyntaxError && e.templateName === 'models/bad.sql' && e.line === 3,
    );
    assert.throws(
      () => env.parse('a\nb\n{% for x in y %}\n{{ x }}', 'models/open.sql'),
      (e: unknown) =>
        e instanceof TemplateSyntaxError &&
        e.line === 4 &&
        /looking for the following tags: 'endfor' or 'else'/.test(e.message),
    );
    assert.throws(
      () => env.parse('{{ [1, 2 }}', 'x.sql'),
      (e: unknown) => e instanceof TemplateSyntaxError && /unexpected '}'/.test(e.detail),
    );
  });

  test('runtime errors point at the innermost template and line, with the cause', async () => {
    const macros = env.parse('{% macro m(x) %}\n  ok\n  {{ x + 1 }}\n{% endmacro %}', 'macros/m.sql').bindMacros({});
    await assert.rejects(
      env.parse('line1\nline2\n{{ m("a") }}', 'models/x.sql').render({ ...macros }),
      (e: unknown) =>
        e instanceof TemplateRuntimeError &&
        e.templateName === 'macros/m.sql' &&
        e.line === 3 &&
        e.detail === 'TypeError: can only concatenate str (not "int") to str',
    );
  });

  test('an error thrown by a JS global keeps its cause', async () => {
    const boom = new Error('env var MISSING is required');
    await assert.rejects(
      render('\n\n{{ env_var("MISSING") }}', {
        env_var: () => {
          throw boom;
        },
      }),
      (e: unknown) =>
        e instanceof TemplateRuntimeError && e.line === 3 && e.cause === boom && e.detail === boom.message,
    );
  });

  test('undefined names and attributes fail like Jinja2', async () => {
    await assert.rejects(render('{{ nope.attr }}'), /'nope' is undefined/);
    await assert.rejects(render('{{ d.a.b }}', { d: {} }), /'dict object' has no attribute 'a'/);
    assert.equal(await render('[{{ nope }}][{{ d.a }}]', { d: {} }), '[][]');
  });
});

describe('options and interop', () => {
  test('filters and tests given as options (dbt as_number / as_bool …)', async () => {
    const e = new Environment({
      filters: {
        as_number: (v) => Number(v),
        shout: (v, args) => `${String(v).toUpperCase()}${String(args[0] ?? '!')}`,
      },
      tests: { positive: (v) => (v as number) > 0 },
    });
    assert.equal(
      await render('{{ "5"|as_number + 1 }} {{ "a"|shout("?") }} {{ 3 is positive }} {{ "x"|upper }}', {}, e),
      '6 A? True X',
    );
    const copy = e.withOptions({ filters: { extra: () => 'extra' } });
    assert.equal(await render('{{ 1|as_number }}{{ 1|extra }}', {}, copy), '1extra');
  });

  test('lenient Undefined (dbt parse phase) lets unknown chains through', async () => {
    const e = new Environment({ lenientUndefined: true });
    assert.equal(
      await render('[{{ adapter.get_relation(this).columns[0].name }}]{% for c in unknown.cols %}x{% endfor %}', {}, e),
      '[]',
    );
  });

  test('plain JS functions get positional args, then kwargs as one object', async () => {
    const seen: unknown[][] = [];
    const fn = (...a: unknown[]): string => {
      seen.push(a);
      return 'r';
    };
    assert.equal(await render('{{ f(1, "a") }}{{ f(2, k=3) }}', { f: fn }), 'rr');
    assert.deepEqual(seen, [
      [1, 'a'],
      [2, { k: 3 }],
    ]);
  });

  test('class instances: attributes, bound methods, __getitem__, private attributes are unsafe', async () => {
    class Relation {
      constructor(
        readonly schema: string,
        readonly identifier: string,
      ) {}
      private secret = 'hidden';
      get name(): string {
        return this.identifier;
      }
      quoted(): string {
        return `"${this.schema}"."${this.identifier}"`;
      }
      include = callable((_a, kw) => `${this.identifier}:${String(kw.schema)}`);
      __getitem__(k: unknown): unknown {
        return k === 'schema' ? this.schema : undefined;
      }
      toString(): string {
        return this.quoted();
      }
    }
    const r = new Relation('v1', 'user');
    assert.equal(
      await render(
        '{{ r }} {{ r.name }} {{ r.quoted() }} {{ r.include(schema=false) }} {{ r["schema"] }} [{{ r.secret }}]',
        { r },
      ),
      '"v1"."user" user "v1"."user" user:false v1 [hidden]',
    );
    await assert.rejects(render('{{ r._x.y }}', { r }), /unsafe/);
  });

  test('a Proxy namespace answers every attribute (missing-package stand-in)', async () => {
    // `then` must stay undefined: evaluation is async, so a thenable value would be awaited.
    const missing = new Proxy(
      {},
      {
        get: (_t, prop) => (typeof prop === 'string' && prop !== 'then' ? callable(() => `no ${prop}`) : undefined),
        has: () => true,
      },
    );
    assert.equal(await render('{{ dbt_utils.dateadd("day", 1, "x") }}', { dbt_utils: missing }), 'no dateadd');
  });

  test('a plain object with its own toString() prints through it', async () => {
    const rel = { schema: 'v1', name: 'user', toString: () => '"db"."v1"."user"' };
    assert.equal(
      await render('{{ rel }} {{ rel.schema }} {{ "from " ~ rel }}', { rel }),
      '"db"."v1"."user" v1 from "db"."v1"."user"',
    );
  });

  test('str.format honours __format__ (datetime-like objects) and sets print like Python', async () => {
    const day = {
      __format__: (spec: string) => (spec === '%Y-%m-%d' ? '2024-07-31' : 'other'),
      toString: () => '2024-07-31 00:00:00',
    };
    assert.equal(
      await render("{{ '{:%Y-%m-%d}'.format(d) }} {{ '{}'.format(d) }} {{ s }} {{ e }}", {
        d: day,
        s: new Set([1, 'a']),
        e: new Set(),
      }),
      "2024-07-31 other {1, 'a'} set()",
    );
  });

  test('toJs converts template values for JS consumers', async () => {
    let captured: unknown;
    const config = callable((_a, kw) => {
      captured = toJs(kw);
      return '';
    });
    await render(
      "{% set C = 'columns' %}{{ config(indexes=[{C: ['uuid'], 'type': 'hash'},], ratio=1.0, t=(1, 2), ns=namespace(a=1)) }}",
      { config },
    );
    assert.deepEqual(captured, { indexes: [{ columns: ['uuid'], type: 'hash' }], ratio: 1, t: [1, 2], ns: { a: 1 } });
  });

  test('integral floats stay floats; namespaces are objects', async () => {
    assert.equal(await render('{{ x }} {{ x + 1 }} {{ x|int }}', { x: new PyFloat(2) }), '2.0 3.0 2');
    assert.ok(new Namespace().attrs instanceof Map);
  });

  test('parsed templates are cached by name and source', () => {
    const a = env.parse('{{ 1 }}', 'cache.sql');
    assert.equal(env.parse('{{ 1 }}', 'cache.sql'), a);
    assert.notEqual(env.parse('{{ 2 }}', 'cache.sql'), a);
  });
});

describe('host-object protocols (what the dbt layer builds on)', () => {
  class Row {
    constructor(private readonly cells: Record<string, unknown>) {}
    __getitem__(k: unknown): unknown {
      return typeof k === 'string' ? this.cells[k] : undefined;
    }
    keys(): string[] {
      return Object.keys(this.cells);
    }
  }
  class Days {
    constructor(readonly n: number) {}
    __add__(o: unknown): unknown {
      return o instanceof Days ? new Days(this.n + o.n) : typeof o === 'number' ? new Days(this.n + o) : undefined;
    }
    __sub__(o: unknown): unknown {
      return o instanceof Days ? new Days(this.n - o.n) : undefined;
    }
    __eq__(o: unknown): unknown {
      return o instanceof Days ? o.n === this.n : undefined;
    }
    __cmp__(o: unknown): unknown {
      return o instanceof Days ? Math.sign(this.n - o.n) : undefined;
    }
    toString(): string {
      return `${this.n}d`;
    }
  }

  test('attribute access falls back to __getitem__, and __getitem__ + keys make a mapping', async () => {
    assert.equal(
      await render('{{ r.schema }}|{{ r["schema"] }}|{{ r is mapping }}|{{ r.nope is defined }}', {
        r: new Row({ schema: 's' }),
      }),
      's|s|True|False',
    );
  });

  test('__add__/__sub__/__eq__/__cmp__ give +, -, ==, < and sorting', async () => {
    const ctx = { a: new Days(2), b: new Days(5) };
    assert.equal(
      await render(
        '{{ a + b }}|{{ b - a }}|{{ a + 1 }}|{{ a == a + 0 }}|{{ a < b }}|{{ [b, a] | sort | join(",") }}',
        ctx,
      ),
      '7d|3d|3d|True|True|2d,5d',
    );
    await assert.rejects(render('{{ a - 1 }}', ctx), /unsupported operand type\(s\) for -/);
  });
});
