/**
 * Publish hints: `<prefix>hints` is a set of account ids whose queue has just
 * received messages. The frontend adds to it in the round trip it already makes
 * per request (gateway stats); dispatchers pop it every ~100 ms and mark those
 * queues as having messages, so messages-first hands them out at once instead
 * of after the maintainer's next count. SPOP splits the set between dispatcher
 * replicas. A lost hint costs latency, never data: the maintainer's counts
 * still find every message.
 */
import type { ChainableCommander, Redis } from 'ioredis';

export const hintsKey = (prefix: string): string => `${prefix}hints`;

/** Add the hint to a MULTI or pipeline being built. */
export function addHint(multi: ChainableCommander, prefix: string, account: string): void {
  multi.sadd(hintsKey(prefix), account);
}

/** Take up to `max` hinted account ids (each hint goes to one caller). */
export async function popHints(redis: Redis, prefix: string, max = 1_000): Promise<string[]> {
  return redis.spop(hintsKey(prefix), max);
}
