/**
 * Runs the incremental models after new rows land, debounced: a burst of
 * batches triggers one run, a run never starts less than `minIntervalMs` after the
 * previous one started (DATAEMON_INTERVAL), and never two at once — rows that land
 * during a run mark it dirty and trigger exactly one more run afterwards.
 */
export class TransformDaemon {
  private isDirty = false;
  private isRunning = false;
  private timer: NodeJS.Timeout | null = null;
  private lastStartedAt = 0;
  private isStopped = false;
  private current: Promise<void> | null = null;

  constructor(
    private readonly run: () => Promise<void>,
    private readonly o: { minIntervalMs: number; debounceMs: number },
  ) {}

  markDirty(): void {
    if (this.isStopped) return;
    this.isDirty = true;
    this.arm();
  }

  private arm(): void {
    if (this.timer || this.isRunning || this.isStopped) return;
    const wait = Math.max(this.o.debounceMs, this.lastStartedAt + this.o.minIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.current = this.fire();
    }, wait);
  }

  private async fire(): Promise<void> {
    if (!this.isDirty || this.isStopped) return;
    this.isDirty = false;
    this.isRunning = true;
    this.lastStartedAt = Date.now();
    try {
      await this.run();
    } finally {
      this.isRunning = false;
      if (this.isDirty) this.arm();
    }
  }

  /** Cancels a pending run and waits for one in flight. */
  async stop(): Promise<void> {
    this.isStopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.current?.catch(() => undefined);
  }
}
