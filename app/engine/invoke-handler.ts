import { type Wire, type MethodName, methodSchemas } from '../contract';
import { EngineError, toWireError } from '../core/engine-error';
import type { Engine } from './types';

/**
 * The one entry point every transport uses (IPC, HTTP, in-process): validate the
 * raw argument with the method's schema, run the handler, and turn any failure
 * into a wire error. Never throws.
 */
export async function invokeHandler(
  engine: Pick<Engine, 'handlers'>,
  method: string,
  rawArgs: unknown,
): Promise<Wire<unknown>> {
  try {
    if (!isMethodName(method)) {
      throw new EngineError('NOT_FOUND', `There is no API method named "${method.slice(0, 80)}".`);
    }
    const parsed = methodSchemas[method].safeParse(rawArgs ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue && issue.path.length ? issue.path.map(String).join('.') : '(arguments)';
      throw new EngineError(
        'INVALID_ARGUMENT',
        `Invalid argument for ${method}: ${field} ${issue?.message ?? 'is invalid'}.`,
        {
          details: {
            field,
            issues: parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
          },
        },
      );
    }
    const handler = engine.handlers[method] as (args: unknown) => Promise<unknown>;
    const value = await handler(parsed.data);
    return { ok: true, value };
  } catch (error) {
    return { ok: false, error: toWireError(error) };
  }
}

function isMethodName(name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(methodSchemas, name);
}
