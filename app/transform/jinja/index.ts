/**
 * Our Jinja2 engine (Python/Jinja2 3.1 semantics, asynchronous evaluation) for the
 * dbt-compatible transform engine. See README.md.
 *
 *   const env = new Environment({ filters: { as_number: (v) => v } });
 *   const tpl = env.parse(source, 'models/x.sql');        // cached; TemplateSyntaxError
 *   const sql = await tpl.render({ ref: callable(async ([name]) => …) });  // TemplateRuntimeError
 *   const macros = tpl.bindMacros(() => dbtContext);       // { name: JinjaCallable }
 */
export { Environment, type EnvironmentOptions, type MacroDefinition, type Template } from './environment';
export { TemplateRuntimeError, TemplateSyntaxError, PyError } from './errors';
export { ReturnSignal, LoopContext, type EvalContext, type JinjaFilter, type JinjaTest } from './interpreter';
export {
  JINJA_CALLABLE,
  type JinjaCallable,
  None,
  Namespace,
  PyFloat,
  Undefined,
  callable,
  isFloat,
  isJinjaCallable,
  isMapping,
  isTuple,
  mkFloat,
  pyEq,
  pyRepr,
  pyStr,
  toJs,
  truthy,
  tuple,
} from './values';
export { pyJsonDumps } from './filters';
