/**
 * Long-poll `POST /queue/next` ("wait": ms): consumers that would rather wait
 * for a queue with messages than take a known-empty one park here. wake() lets
 * every parked consumer try to claim again: a publish hint applied, a queue given
 * back with messages left, an unpause, a start, an expired lease, and a periodic
 * re-check while anyone waits (other dispatcher replicas' hints and the
 * maintainer's counts reach the registry without passing through this process).
 * A generation number keeps a wake that came while a consumer's claim was in
 * flight from being lost: wait() returns at once when one happened since.
 */
export type WaitOutcome = 'woken' | 'deadline' | 'aborted' | 'closed';

export interface ClaimWaiters {
  /** Consumers parked right now. */
  readonly size: number;
  /** Read before a claim attempt; pass to wait() after it failed. */
  generation(): number;
  /** Park until a wake after `since`, the deadline (epoch ms), the signal, or close(). */
  wait(since: number, deadline: number, signal?: AbortSignal): Promise<WaitOutcome>;
  wake(): void;
  /** Every parked consumer returns 'closed'; later waits too. Idempotent. */
  close(): void;
}

interface Parked {
  settle(outcome: WaitOutcome): void;
}

export function createClaimWaiters(
  opts: { recheckMs?: number; now?: () => number; onSize?: (size: number) => void } = {},
): ClaimWaiters {
  const recheckMs = opts.recheckMs ?? 250;
  const now = opts.now ?? Date.now;
  const parked = new Set<Parked>();
  let gen = 0;
  let closed = false;
  let recheck: NodeJS.Timeout | undefined;

  function sized(): void {
    opts.onSize?.(parked.size);
    if (parked.size > 0 && !recheck && !closed) {
      recheck = setInterval(wake, recheckMs);
      recheck.unref();
    } else if (parked.size === 0 && recheck) {
      clearInterval(recheck);
      recheck = undefined;
    }
  }

  function wake(): void {
    gen += 1;
    for (const p of [...parked]) p.settle('woken');
  }

  return {
    get size() {
      return parked.size;
    },
    generation: () => gen,
    wait(since, deadline, signal) {
      if (closed) return Promise.resolve('closed');
      if (signal?.aborted) return Promise.resolve('aborted');
      // The deadline before any wake: wakes come all the time on a busy dispatcher, and
      // a consumer woken again and again must still get its answer when it asked for it.
      const ms = deadline - now();
      if (ms <= 0) return Promise.resolve('deadline');
      if (gen !== since) return Promise.resolve('woken');
      return new Promise<WaitOutcome>((resolve) => {
        const timer = setTimeout(() => p.settle('deadline'), ms);
        const onAbort = (): void => p.settle('aborted');
        const p: Parked = {
          settle(outcome) {
            if (!parked.delete(p)) return;
            clearTimeout(timer);
            signal?.removeEventListener('abort', onAbort);
            sized();
            resolve(outcome);
          },
        };
        parked.add(p);
        signal?.addEventListener('abort', onAbort, { once: true });
        sized();
      });
    },
    wake,
    close() {
      if (closed) return;
      closed = true;
      for (const p of [...parked]) p.settle('closed');
      if (recheck) clearInterval(recheck);
      recheck = undefined;
    },
  };
}
