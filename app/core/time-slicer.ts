import { performance } from 'node:perf_hooks';
import { setImmediate } from 'node:timers/promises';

/** The default slice: long enough that yielding costs little, short enough for a 60 Hz window. */
export const DEFAULT_SLICE_MS = 8;

/**
 * Cooperative time slicing for long CPU-bound work on the main process's event loop (Electron
 * runs the engine there: a step that never yields freezes the window). Work calls `tick()`
 * between units (a file, a macro file, a model); once the current slice has run `sliceMs` or
 * more, `tick()` yields one turn of the event loop (setImmediate: timers, I/O and IPC run) and
 * starts a new slice. Between slice ends it returns at once, so a tick costs a clock read.
 *
 * One slicer per unit of work (a transform run); several may run at once, each yielding on
 * its own. A unit that is itself longer than a slice still runs whole: slice at a finer grain.
 */
export class TimeSlicer {
  private sliceStart = performance.now();
  /** How many times this slicer yielded (for tests and diagnostics). */
  yields = 0;

  constructor(readonly sliceMs = DEFAULT_SLICE_MS) {}

  /** Yields to the event loop when the current slice is used up; otherwise resolves at once. */
  async tick(): Promise<void> {
    if (performance.now() - this.sliceStart < this.sliceMs) return;
    await setImmediate();
    this.yields++;
    this.sliceStart = performance.now();
  }

  /** `fn` over each item in order, ticking before each one. */
  async each<T>(items: Iterable<T>, fn: (item: T, index: number) => void | Promise<void>): Promise<void> {
    let i = 0;
    for (const item of items) {
      await this.tick();
      await fn(item, i++);
    }
  }
}
