import { buildAndSwap, createIndexes, exec, inTransaction } from './steps';
import type { MaterializeInput, MaterializeOutput } from './types';

/**
 * `materialized_view`: created once (with its indexes), refreshed on later runs; a full
 * refresh or a different relation kind under the name is rebuilt through build-and-swap.
 */
export async function materializeMaterializedView(i: MaterializeInput, out: MaterializeOutput): Promise<number | null> {
  const create = (rel: typeof i.target): string => `create materialized view ${rel.render()} as\n  ${i.sql};`;
  if (!i.existing) {
    return inTransaction(i, out, async () => {
      const r = await exec(i, out, create(i.target));
      await createIndexes(i, out, i.target);
      return r.rowCount;
    });
  }
  if (i.fullRefresh || i.existing.type !== 'materialized_view') {
    return buildAndSwap(
      i,
      out,
      async (intermediate) => (await exec(i, out, create(intermediate))).rowCount,
      'materialized_view',
    );
  }
  return inTransaction(
    i,
    out,
    async () => (await exec(i, out, `refresh materialized view ${i.target.render()}`)).rowCount,
  );
}
