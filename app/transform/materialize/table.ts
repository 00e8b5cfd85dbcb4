import { buildAndSwap, createTableAs, exec } from './steps';
import type { MaterializeInput, MaterializeOutput } from './types';

/** `table`: always rebuilt, through build-and-swap. */
export async function materializeTable(i: MaterializeInput, out: MaterializeOutput): Promise<number | null> {
  return buildAndSwap(
    i,
    out,
    async (intermediate) => (await exec(i, out, await createTableAs(i, intermediate, false))).rowCount,
    'table',
  );
}
