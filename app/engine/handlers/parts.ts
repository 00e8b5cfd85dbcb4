import type { EngineContext } from '../engine-context';
import type { SyncRunner } from '../runners/sync-runner';
import type { TransformRunner } from '../runners/transform-runner';
import type { VerifyRunner } from '../runners/verify-runner';
import type { DemoService } from '../services/demo-service';
import type { PostgresService } from '../services/postgres-service';
import type { Scheduler } from '../services/scheduler';
import type { EngineSettings } from '../settings';
import type { StatusFeed } from '../status-feed';

/** Everything a domain's handlers may use: the shared context, the settings, the services and the runners. */
export interface EngineParts {
  ctx: EngineContext;
  settings: EngineSettings;
  status: StatusFeed;
  postgres: PostgresService;
  demo: DemoService;
  sync: SyncRunner;
  transforms: TransformRunner;
  verify: VerifyRunner;
  scheduler: Scheduler;
}

/** Applies the saved settings; `emit` tells the UI (a setting the UI did not change itself stays quiet). */
export async function applySettings(
  parts: Pick<EngineParts, 'ctx' | 'settings' | 'status'>,
  emit = true,
): Promise<void> {
  const work = parts.settings.apply();
  if (emit) {
    parts.ctx.bus.emit('settings.changed', {});
    parts.status.push(true);
  }
  await work;
}
