/**
 * Publish hints -> registry: every `intervalMs`, take the account ids the
 * frontends reported publishing to and mark their queues as having messages,
 * so messages-first hands them out within ~100 ms instead of after the
 * maintainer's next count. A pass that took a full batch runs again at once.
 * Failures are logged once per change and retried next time (a lost hint costs
 * latency only: the maintainer's counts still find the messages). Queues a claim
 * held at that moment (the registry does not wait for it) are hinted again on
 * the next pass.
 */
import { errorMessage } from '../core/errors.js';
import { createPeriodic } from '../core/periodic.js';
import type { Logger } from '../core/logger.js';
import type { HintResult } from '../registry/registry.js';

export interface HintPumpDeps {
  /** Take up to `max` hinted queue ids. */
  pop(max: number): Promise<string[]>;
  /** Mark them as having messages (the registry's markHasMessages). */
  mark(queues: string[]): Promise<HintResult>;
  logger: Logger;
  intervalMs?: number;
  onHints?(n: number): void;
}

export interface HintPump {
  /** One pass now (tests); resolves with the hints applied. */
  runOnce(): Promise<number>;
  /**
   * A pass as soon as possible (a hint was published and consumers are waiting): joins
   * the pass in flight and runs one more after it, so a hint added meanwhile is not
   * left for the next interval. Failures are left to the interval's passes to report.
   */
  poke(): void;
  close(): Promise<void>;
}

const BATCH = 1_000;

export function startHintPump(deps: HintPumpDeps): HintPump {
  const intervalMs = deps.intervalMs ?? 100;
  let failing = false;
  // Hints taken but not yet applied (the registry was away, or a claim held the
  // queue at that moment): tried again first, with what Redis has meanwhile.
  let pending: string[] = [];

  async function pass(): Promise<number> {
    const carried = pending;
    pending = [];
    const popped = carried.length < BATCH ? await deps.pop(BATCH - carried.length) : [];
    const taken = carried.length ? [...new Set([...carried, ...popped])] : popped;
    if (taken.length === 0) return 0;
    let busy: string[];
    try {
      ({ busy } = await deps.mark(taken));
    } catch (err) {
      pending = taken;
      throw err;
    }
    pending = busy;
    const applied = taken.length - busy.length;
    if (applied > 0) deps.onHints?.(applied);
    return applied;
  }

  const passes = createPeriodic({
    run: pass,
    unref: true,
    next: (o) => {
      if (o.ok) {
        if (failing) deps.logger.info('publish hints applied again');
        failing = false;
        return o.value >= BATCH ? 0 : intervalMs;
      }
      if (!failing)
        deps.logger.warn(
          { err: errorMessage(o.error) },
          'publish hints not applied (queues wait for the maintainer counts)',
        );
      failing = true;
      return Math.max(intervalMs, 1_000);
    },
  });
  passes.start(intervalMs);
  let poking: Promise<unknown> | undefined;
  let again = false;
  let closed = false;
  function poke(): void {
    // After close a pass could pop hints it can no longer apply (lost with the process).
    if (closed) return;
    if (poking) {
      again = true;
      return;
    }
    poking = passes
      .runOnce()
      .catch(() => undefined)
      .finally(() => {
        poking = undefined;
        if (again) {
          again = false;
          poke();
        }
      });
  }
  return {
    runOnce: () => passes.runOnce(),
    poke,
    async close() {
      closed = true;
      await passes.close();
      await poking;
    },
  };
}
