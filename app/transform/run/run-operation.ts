import type { Logger } from '../../core/logger';
import { ReturnSignal } from '../jinja';
import { pyStr } from '../jinja/values';
import { withPgSession } from '../materialize/pg-session';
import type { RunArtifacts } from '../run-transform';

/** What `dbt run-operation` made of a macro call. */
export type RunOperationOutcome =
  { status: 'ok'; output: string } | { status: 'no-macro' } | { status: 'failed'; message: string };

/**
 * `dbt run-operation <macro> --args {…}`: the macro (`name`, or `package.name`) is looked up as
 * a hook would find it, then called with the args as keywords in one transaction on its own
 * connection (committed when it returns, rolled back when it raises). `{{ return(x) }}` is its
 * output. `a` comes from a parse-only run of the project.
 */
export async function runOperation(
  a: RunArtifacts,
  url: string,
  logger: Logger,
  macro: string,
  args: Record<string, unknown>,
): Promise<RunOperationOutcome> {
  const compiler = a.compiler;
  const root = compiler.o.project.root.name;
  const [pkg, name] = macro.includes('.') ? (macro.split('.', 2) as [string, string]) : [null, macro];
  const entry = pkg ? compiler.registry.byPackage.get(pkg)?.get(name) : compiler.registry.find(name, root);
  if (!entry) return { status: 'no-macro' };
  return withPgSession(url, logger, async (session) => {
    const hctx = compiler.hookContext(root, session, []);
    hctx.__run_operation_args = args;
    await session.query('begin');
    try {
      const out = await compiler
        .renderString(`{{ ${pkg ? `${pkg}.` : ''}${name}(**__run_operation_args) }}`, `run-operation:${macro}`, hctx, {
          file: `run-operation ${macro}`,
        })
        .catch((error: unknown) => {
          if (error instanceof ReturnSignal) return pyStr(error.value);
          throw error;
        });
      await session.query('commit');
      return { status: 'ok', output: out.trim() };
    } catch (error) {
      await session.query('rollback').catch(() => undefined);
      return { status: 'failed', message: (error as Error).message };
    }
  });
}
