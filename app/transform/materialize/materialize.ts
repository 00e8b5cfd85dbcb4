import { EngineError } from '../../core/engine-error';
import { materializeIncremental } from './incremental';
import { materializeMaterializedView } from './materialized-view';
import { materializeSeed } from './seed';
import { materializeSnapshot } from './snapshot';
import { materializeTable } from './table';
import { applyGrants, persistDocs } from './configs';
import type { MaterializeInput, MaterializeOutput } from './types';
import { materializeView } from './view';

/** Run one model's materialization (ephemeral models never reach here: they are inlined). */
export async function materialize(i: MaterializeInput): Promise<MaterializeOutput> {
  const out: MaterializeOutput = { rowsAffected: null, warnings: [], statements: [] };
  switch (i.materialized) {
    case 'view':
      out.rowsAffected = await materializeView(i, out);
      break;
    case 'table':
      out.rowsAffected = await materializeTable(i, out);
      break;
    case 'incremental':
      out.rowsAffected = await materializeIncremental(i, out);
      break;
    case 'materialized_view':
      out.rowsAffected = await materializeMaterializedView(i, out);
      break;
    case 'seed':
      out.rowsAffected = await materializeSeed(i, out, i.csv ?? '');
      break;
    case 'snapshot':
      out.rowsAffected = await materializeSnapshot(i, out);
      break;
    default:
      throw new EngineError(
        'MODEL_COMPILE',
        `Model ${i.model} (${i.file}) uses materialized='${i.materialized}', which this engine does not run. Use view, table, incremental, materialized_view or ephemeral.`,
        {
          details: { model: i.model, file: i.file },
        },
      );
  }
  // After the build (and its commit), as dbt-postgres does: grants, then persisted docs.
  const built = i.target.withIdentifier(
    i.target.identifier,
    i.materialized === 'view' ? 'view' : i.materialized === 'materialized_view' ? 'materialized_view' : 'table',
  );
  await applyGrants(i, out, built);
  await persistDocs(i, out, built);
  return out;
}
