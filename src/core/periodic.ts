/**
 * A pass that runs again and again (the maintainer's, the dispatcher's hint
 * pump): never two at once in one process, the next one scheduled from how the
 * last one ended, and close() waits for the pass in flight.
 */
export type PassOutcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

export interface Periodic<T> {
  /** One pass now, or the one already running. */
  runOnce(): Promise<T>;
  /** Passes from `firstDelayMs` on, until close(). Idempotent. */
  start(firstDelayMs?: number): void;
  /** No more passes; resolves once the one in flight (if any) has ended. Idempotent. */
  close(): Promise<void>;
}

export function createPeriodic<T>(opts: {
  run: () => Promise<T>;
  /** Milliseconds until the next pass, from how this one ended (log here). */
  next: (outcome: PassOutcome<T>) => number;
  /** Do not keep the process alive for the timer alone. */
  unref?: boolean;
}): Periodic<T> {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<T> | undefined;
  let closed = false;
  let started = false;

  function runOnce(): Promise<T> {
    running ??= opts.run().finally(() => {
      running = undefined;
    });
    return running;
  }

  function schedule(delay: number): void {
    if (closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      runOnce().then(
        (value) => schedule(opts.next({ ok: true, value })),
        (error: unknown) => schedule(opts.next({ ok: false, error })),
      );
    }, delay);
    if (opts.unref) timer.unref();
  }

  return {
    runOnce,
    start(firstDelayMs = 0) {
      if (started || closed) return;
      started = true;
      schedule(firstDelayMs);
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running?.catch(() => undefined);
    },
  };
}
