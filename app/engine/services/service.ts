/**
 * A long-lived part of the engine with one lifecycle: `start()` when the engine is
 * created (cheap: the embedded PostgreSQL and the demo server start lazily, on first
 * use), `stop()` when it closes (waits for work in flight). The engine starts its
 * services in list order and stops them in reverse.
 */
export interface Service {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts each service in order; if one fails, the ones already started are stopped again. */
export async function startServices(services: readonly Service[]): Promise<void> {
  const started: Service[] = [];
  try {
    for (const service of services) {
      await service.start();
      started.push(service);
    }
  } catch (error) {
    await stopServices(started, () => undefined);
    throw error;
  }
}

/** Stops each service in reverse order; one failing to stop never keeps the others running. */
export async function stopServices(
  services: readonly Service[],
  onError: (service: Service, error: unknown) => void,
): Promise<void> {
  for (const service of [...services].reverse()) {
    try {
      await service.stop();
    } catch (error) {
      onError(service, error);
    }
  }
}
