/**
 * Publish hints -> registry: every `intervalMs`, take the account ids the
 * frontends reported publishing to and mark their queues as having messages,
 * so messages-first hands them out within ~100 ms instead of after the
 * maintainer's next count. A pass that took a full batch runs again at once.
 * Failures are logged once per change and retried next time (a lost hint costs
 * latency only: the maintainer's counts still find the messages).
 */
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

export interface HintPumpDeps {
  /** Take up to `max` hinted queue ids. */
  pop(max: number): Promise<string[]>;
  /** Mark them as having messages; returns how many entries matched. */
  mark(queues: string[]): Promise<number>;
  logger: Logger;
  intervalMs?: number;
  onHints?(n: number): void;
}

export interface HintPump {
  /** One pass now (tests); resolves with the hints applied. */
  runOnce(): Promise<number>;
  close(): Promise<void>;
}

const BATCH = 1_000;

export function startHintPump(deps: HintPumpDeps): HintPump {
  const intervalMs = deps.intervalMs ?? 100;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let closed = false;
  let failing = false;
  // Hints taken but not yet applied (the registry was away): tried again first.
  let pending: string[] = [];

  async function pass(): Promise<number> {
    const taken = pending.length ? pending : await deps.pop(BATCH);
    pending = [];
    if (taken.length === 0) return 0;
    try {
      await deps.mark(taken);
    } catch (err) {
      pending = taken;
      throw err;
    }
    deps.onHints?.(taken.length);
    return taken.length;
  }

  function runOnce(): Promise<number> {
    running ??= pass().finally(() => {
      running = undefined;
    });
    return running;
  }

  function schedule(delay: number): void {
    if (closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      runOnce().then(
        (n) => {
          if (failing) deps.logger.info('publish hints applied again');
          failing = false;
          schedule(n >= BATCH ? 0 : intervalMs);
        },
        (err: unknown) => {
          if (!failing)
            deps.logger.warn(
              { err: errorMessage(err) },
              'publish hints not applied (queues wait for the maintainer counts)',
            );
          failing = true;
          schedule(Math.max(intervalMs, 1_000));
        },
      );
    }, delay);
    timer.unref();
  }
  schedule(intervalMs);

  return {
    runOnce,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running?.catch(() => undefined);
    },
  };
}
