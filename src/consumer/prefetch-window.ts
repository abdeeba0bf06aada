/**
 * The prefetch window per account queue, sized in bytes rather than messages:
 * measured here, a 50,000-message backlog of one-reading messages drained at
 * ~900 msg/s with a window of 64 and ~3,800 msg/s with 500, while 500 messages
 * of 3,000 readings would be 300 MB in flight. So each queue gets about
 * `bytes` in flight, from the mean message size seen on its previous lease.
 * A process draining many queues at once shares one budget among them
 * (`windowForProcess`), so its memory stays bounded whatever its concurrency.
 */
export interface PrefetchWindow {
  for(account: string): number;
  observe(account: string, messages: number, bytes: number): void;
}

/** Bytes in flight per queue for each of the queues a consumer process drains at once. */
export const QUEUE_WINDOW_BYTES = 8 * 1024 * 1024;
/** Bytes in flight for a whole consumer process, over all the queues it drains at once. */
export const PROCESS_WINDOW_BYTES = 256 * 1024 * 1024;

const QUEUES_AT_FULL_WINDOW = PROCESS_WINDOW_BYTES / QUEUE_WINDOW_BYTES;
const MIN_WINDOW = 16;

/**
 * The window settings of one queue when a process drains `concurrency` queues at
 * once: up to 32 queues each gets 8 MB, at least 16 messages and `initial` before
 * its message size is known; beyond, all three shrink in proportion.
 */
export function windowForProcess(
  concurrency: number,
  initial: number,
): { bytes: number; minimum: number; initial: number } {
  const share = Math.min(1, QUEUES_AT_FULL_WINDOW / Math.max(1, concurrency));
  return {
    bytes: Math.floor(QUEUE_WINDOW_BYTES * share),
    minimum: Math.max(1, Math.floor(MIN_WINDOW * share)),
    initial: Math.max(1, Math.floor(initial * share)),
  };
}

export function createPrefetchWindow(opts: {
  initial: number;
  maximum: number;
  minimum?: number;
  bytes?: number;
}): PrefetchWindow {
  const mean = new Map<string, number>();
  const min = Math.min(opts.minimum ?? MIN_WINDOW, opts.maximum);
  const budget = opts.bytes ?? QUEUE_WINDOW_BYTES;
  return {
    for(account) {
      const m = mean.get(account);
      if (m === undefined) return Math.min(opts.initial, opts.maximum);
      return Math.max(min, Math.min(opts.maximum, Math.floor(budget / Math.max(1, m))));
    },
    observe(account, messages, bytes) {
      if (messages <= 0) return;
      if (mean.size > 100_000) mean.clear();
      mean.set(account, bytes / messages);
    },
  };
}
