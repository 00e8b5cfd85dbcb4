import { assertColumnsEquivalent } from './contract';
import { sqlHeader } from './configs';
import { buildAndSwap, exec } from './steps';
import type { MaterializeInput, MaterializeOutput } from './types';

/** `view`: `create view … as (sql)` under a temporary name, then swapped in. */
export async function materializeView(i: MaterializeInput, out: MaterializeOutput): Promise<number | null> {
  return buildAndSwap(
    i,
    out,
    async (intermediate) => {
      // dbt checks a view's contract columns too (views carry no constraints).
      if (i.contractEnforced)
        await assertColumnsEquivalent(i.session, i.sql, i.columns, { model: i.model, file: i.file });
      await exec(i, out, `${sqlHeader(i)}create view ${intermediate.render()}\n  \n  as (\n    ${i.sql}\n  );`);
      return null;
    },
    'view',
  );
}
