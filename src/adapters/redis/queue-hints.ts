/**
 * Publish hints: `<prefix>hints` is a set of account ids whose queue has just
 * received messages. The frontend adds to it in the round trip it already makes
 * per request (gateway stats); dispatchers pop it every ~100 ms and mark those
 * queues as having messages, so messages-first hands them out at once instead
 * of after the maintainer's next count. SPOP splits the set between dispatcher
 * replicas. A lost hint costs latency, never data: the maintainer's counts
 * still find every message. Each hint is also published on `<prefix>hints`
 * (pub/sub): a dispatcher with consumers waiting for work (long-poll) applies
 * hints at once on it instead of at its next 100 ms pass.
 */
import type { ChainableCommander, Redis } from 'ioredis';
import { disconnectRedis } from './client.js';

export const hintsKey = (prefix: string): string => `${prefix}hints`;
/** The pub/sub channel of the same hints (a channel and a key never collide in Redis). */
export const hintsChannel = hintsKey;

/** Add the hint to a MULTI or pipeline being built. */
export function addHint(multi: ChainableCommander, prefix: string, account: string): void {
  multi.sadd(hintsKey(prefix), account);
  multi.publish(hintsChannel(prefix), account);
}

/**
 * Call `onHint` whenever a frontend publishes a hint, on a connection of its own
 * (a subscribed connection can do nothing else); ioredis subscribes again after
 * a reconnect. Returns the close function.
 */
export function subscribeHints(
  redis: Redis,
  prefix: string,
  onHint: () => void,
): () => Promise<void> {
  // Queued until connected (the main connection fails fast instead); re-subscribed after reconnects.
  const sub = redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
  sub.on('message', onHint);
  // An error event with no listener would crash the process; the main connection logs outages.
  sub.on('error', () => undefined);
  sub.subscribe(hintsChannel(prefix)).catch(() => undefined);
  return () => disconnectRedis(sub);
}

/** Take up to `max` hinted account ids (each hint goes to one caller). */
export async function popHints(redis: Redis, prefix: string, max = 1_000): Promise<string[]> {
  return redis.spop(hintsKey(prefix), max);
}
