/**
 * Orderly shutdown: resources register their cleanup as they are created;
 * close() runs every cleanup last-in-first-out, all of them even when one
 * fails, and only once however often it is called. The first SIGINT/SIGTERM
 * drains gracefully, a second one exits at once.
 */
import type { Logger } from './logger.js';
import { errorMessage } from './errors.js';

type Cleanup = () => unknown | Promise<unknown>;

export interface Lifecycle {
  /** Register a cleanup; returns the resource for chaining. */
  defer(name: string, cleanup: Cleanup): void;
  /** Run every cleanup once (LIFO). Resolves when all have settled. */
  close(): Promise<void>;
  readonly closing: boolean;
  /** Resolves when close() starts (for loops that should stop). */
  readonly closed: Promise<void>;
  /**
   * Install SIGINT/SIGTERM handlers for the rest of the process: the first drains, a second
   * (or one arriving while the process is closing anyway, up to its very exit) exits 130 at
   * once. Returns their remover, for a caller that lives on (tests).
   */
  handleSignals(opts?: { exitCode?: number; onFirstSignal?: (signal: string) => void }): () => void;
}

export function createLifecycle(logger?: Logger): Lifecycle {
  const cleanups: Array<{ name: string; fn: Cleanup }> = [];
  let closing: Promise<void> | undefined;
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));

  async function runAll(): Promise<void> {
    markClosed();
    while (cleanups.length > 0) {
      const { name, fn } = cleanups.pop()!;
      try {
        await fn();
      } catch (err) {
        logger?.warn({ cleanup: name, err: errorMessage(err) }, 'cleanup failed');
      }
    }
  }

  const lifecycle: Lifecycle = {
    defer(name, fn) {
      cleanups.push({ name, fn });
    },
    close() {
      closing ??= runAll();
      return closing;
    },
    get closing() {
      return closing !== undefined;
    },
    closed,
    handleSignals(opts = {}) {
      return onSignals(
        (signal) => {
          // Closing already (the work is done, or failed): a signal now interrupts the exit.
          if (closing) {
            logger?.warn({ signal }, 'signal while closing: exiting now');
            process.exit(130);
          }
          logger?.info({ signal }, 'draining (send the signal again to exit at once)');
          opts.onFirstSignal?.(signal);
          void lifecycle.close().then(() => {
            process.exitCode = opts.exitCode ?? 0;
          });
        },
        (signal) => logger?.warn({ signal }, 'second signal: exiting now'),
      );
    },
  };
  return lifecycle;
}

/**
 * SIGINT/SIGTERM: the first calls `first` (stop gracefully), a second one calls `again`
 * and exits 130 at once. Returns the function that removes the handlers.
 */
export function onSignals(
  first: (signal: NodeJS.Signals) => void,
  again: (signal: NodeJS.Signals) => void,
): () => void {
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      again(signal);
      process.exit(130);
    }
    first(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/** Exponential backoff with full jitter, capped. */
export function backoffDelay(attempt: number, baseMs = 100, maxMs = 10_000): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(cap / 2 + (Math.random() * cap) / 2);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** `p`'s value, or a rejection after `ms` (`p`'s own late rejection is swallowed). */
export function timeLimit<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  p.catch(() => undefined);
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Resolves true when `p` resolves, false after `ms` if it has not; rejects when `p` does first. */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
