// Timers on the emulated timeline: `timeScale` real milliseconds per emulated second. Every timer is
// tracked so that close() and reset() leave nothing behind.

/** setTimeout fires at once for delays above 2^31-1 ms; longer waits are treated as "never". */
const MAX_DELAY_MS = 2 ** 31 - 1;

export class Scheduler {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(readonly timeScale: number) {}

  /** Runs `fn` after `seconds` emulated seconds; returns a cancel function. */
  afterSeconds(seconds: number, fn: () => void): () => void {
    return this.afterMs(seconds * this.timeScale, fn);
  }

  /** Runs `fn` after `ms` real milliseconds (fault latency); returns a cancel function. */
  afterMs(ms: number, fn: () => void): () => void {
    if (!(ms < MAX_DELAY_MS)) return () => {};
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        fn();
      },
      Math.max(0, ms),
    );
    this.timers.add(timer);
    return () => {
      clearTimeout(timer);
      this.timers.delete(timer);
    };
  }

  /** Real milliseconds as emulated seconds. */
  toSeconds(ms: number): number {
    return this.timeScale > 0 ? ms / this.timeScale : 0;
  }

  cancelAll(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
