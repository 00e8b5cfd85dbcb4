/** Jinja2 3.1's built-in tests (`x is defined`, `x is divisibleby 3`, …). */
import { typeError } from './errors';
import type { JinjaTest } from './interpreter';
import {
  Undefined,
  isFloat,
  isInt,
  isJinjaCallable,
  isMapping,
  isNumeric,
  num,
  pyCmp,
  pyContains,
  pyEq,
  pyMod,
  pyStr,
} from './values';

const isUndef = (v: unknown): boolean => v === undefined || v instanceof Undefined;

function arg(name: string, args: unknown[], kwargs: Record<string, unknown>, key: string): unknown {
  if (args.length) return args[0];
  if (Object.prototype.hasOwnProperty.call(kwargs, key)) return kwargs[key];
  throw typeError(`${name}() missing 1 required positional argument: '${key}'`);
}

const eq: JinjaTest = (v, a, k) => pyEq(v, arg('eq', a, k, 'other'));
const ne: JinjaTest = (v, a, k) => !pyEq(v, arg('ne', a, k, 'other'));
const lt: JinjaTest = (v, a, k) => pyCmp(v, arg('lt', a, k, 'other'), 'lt') < 0;
const le: JinjaTest = (v, a, k) => pyCmp(v, arg('le', a, k, 'other'), 'le') <= 0;
const gt: JinjaTest = (v, a, k) => pyCmp(v, arg('gt', a, k, 'other'), 'gt') > 0;
const ge: JinjaTest = (v, a, k) => pyCmp(v, arg('ge', a, k, 'other'), 'ge') >= 0;

function isLower(s: string): boolean {
  return /\p{Ll}/u.test(s) && !/\p{Lu}|\p{Lt}/u.test(s);
}
function isUpper(s: string): boolean {
  return /\p{Lu}/u.test(s) && !/\p{Ll}|\p{Lt}/u.test(s);
}

export const BUILTIN_TESTS: Record<string, JinjaTest> = {
  odd: (v) => num(pyMod(v, 2)) === 1,
  even: (v) => num(pyMod(v, 2)) === 0,
  divisibleby: (v, a, k) => num(pyMod(v, arg('divisibleby', a, k, 'num'))) === 0,
  defined: (v) => !isUndef(v),
  undefined: (v) => isUndef(v),
  none: (v) => v === null,
  boolean: (v) => typeof v === 'boolean',
  false: (v) => v === false,
  true: (v) => v === true,
  integer: (v) => isInt(v),
  float: (v) => isFloat(v),
  number: (v) => isNumeric(v),
  lower: (v) => isLower(pyStr(v)),
  upper: (v) => isUpper(pyStr(v)),
  string: (v) => typeof v === 'string',
  // Host objects that behave as Python Mappings (dbt's Relation, a FakeAPIObject) define
  // `__getitem__` and `keys`.
  mapping: (v) =>
    isMapping(v) ||
    (v !== null &&
      typeof v === 'object' &&
      typeof (v as { __getitem__?: unknown }).__getitem__ === 'function' &&
      typeof (v as { keys?: unknown }).keys === 'function'),
  // Jinja2's test asks for len() and __getitem__, which its Undefined has.
  sequence: (v) => typeof v === 'string' || Array.isArray(v) || isMapping(v) || isUndef(v),
  iterable: (v) =>
    isUndef(v) ||
    typeof v === 'string' ||
    Array.isArray(v) ||
    isMapping(v) ||
    (v !== null && typeof v === 'object' && Symbol.iterator in v),
  sameas: (v, a, k) => {
    const other = arg('sameas', a, k, 'other');
    if (isNumeric(v) && isNumeric(other)) return typeof v === typeof other && num(v) === num(other);
    return v === other;
  },
  // Jinja2's Undefined defines __call__, so `undefined is callable` holds.
  callable: (v) => typeof v === 'function' || isJinjaCallable(v) || isUndef(v),
  escaped: () => false,
  in: (v, a, k) => pyContains(arg('in', a, k, 'seq'), v),
  eq,
  equalto: eq,
  '==': eq,
  ne,
  '!=': ne,
  lt,
  lessthan: lt,
  '<': lt,
  le,
  '<=': le,
  gt,
  greaterthan: gt,
  '>': gt,
  ge,
  '>=': ge,
};
