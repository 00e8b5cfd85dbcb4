import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { silentLogger } from '../../app/core/logger';
import { ProjectCompiler } from '../../app/transform/compile/project-compiler';
import { wrapClient } from '../../app/transform/materialize/pg-session';
import { loadProject } from '../../app/transform/project/load-project';

/** Renders templates the way a dbt `compile --inline` does: live context, the project's macros. */
export async function inlineRenderer(
  projectDir: string,
  url: string,
  database: string,
  schema = 'public',
): Promise<{ render(src: string): Promise<string>; close(): Promise<void> }> {
  const project = await loadProject(
    { kind: 'path', path: projectDir },
    { cacheDir: mkdtempSync(path.join(tmpdir(), 'cht-c-')), logger: silentLogger },
  );
  const compiler = new ProjectCompiler({
    project,
    target: {
      name: 'default',
      schema,
      database,
      type: 'postgres',
      threads: 1,
      user: 'postgres',
      host: '127.0.0.1',
      port: 5432,
      dbname: database,
    },
    env: {},
    cliVars: {},
    invocationId: 'inline',
    runStartedAt: new Date().toISOString(),
    fullRefresh: false,
    logger: silentLogger,
  });
  await compiler.parseModels();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const session = wrapClient(client as unknown as pg.PoolClient, silentLogger);
  let n = 0;
  return {
    render: (src) =>
      compiler.renderString(
        src,
        `${project.root.name}/inline-${n++}`,
        compiler.hookContext(project.root.name, session, []),
        {},
      ),
    close: () => client.end(),
  };
}
