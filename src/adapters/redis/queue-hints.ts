/**
 * Publish hints: `<prefix>hints` is a set of account ids whose queue has just
 * received messages. The frontend adds to it in the round trip it already makes
 * per request (gateway stats); dispatchers pop it every ~100 ms and mark those
 * queues as having messages, so messages-first hands them out at once instead
 * of after the maintainer's next count. SPOP splits the set between dispatcher
 * replicas. A lost hint costs latency, never data: the maintainer's counts
 * still find every message. A hint that is new to the set is also published
 * on `<prefix>hints` (pub/sub): a dispatcher with consumers waiting for work
 * (long-poll) applies hints at once on it instead of at its next pass. Only new
 * ones: an account already in the set is in the next pass anyway, so a busy
 * account costs one message a pass, not one a request.
 */
import type { ChainableCommander, Redis } from 'ioredis';
import type { Logger } from '../../core/logger.js';
import { errorMessage } from '../../core/errors.js';
import { disconnectRedis } from './client.js';

export const hintsKey = (prefix: string): string => `${prefix}hints`;
/** The pub/sub channel of the same hints (a channel and a key never collide in Redis). */
export const hintsChannel = hintsKey;

// KEYS[1] the hint set; ARGV[1] the account, ARGV[2] the channel.
const ADD_HINT = `if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  redis.call('PUBLISH', ARGV[2], ARGV[1])
end
return 0`;

/** Add the hint to a MULTI or pipeline being built. */
export function addHint(multi: ChainableCommander, prefix: string, account: string): void {
  multi.eval(ADD_HINT, 1, hintsKey(prefix), account, hintsChannel(prefix));
}

/** Take up to `max` hinted account ids (each hint goes to one caller). */
export async function popHints(redis: Redis, prefix: string, max = 1_000): Promise<string[]> {
  return redis.spop(hintsKey(prefix), max);
}

export interface HintSubscription {
  /** Resolves once subscribed (or the subscription failed: then hints wait for the passes). */
  ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * Call `onHint` whenever a frontend publishes a hint, on a connection of its own (a
 * subscribed connection can do nothing else); ioredis subscribes again after a reconnect.
 * Failures are logged once per outage: without the subscription hints still arrive with
 * the dispatcher's passes, ~100 ms later.
 */
export function subscribeHints(
  redis: Redis,
  prefix: string,
  onHint: () => void,
  logger?: Logger,
): HintSubscription {
  // Queued until connected (the main connection fails fast instead).
  const sub = redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
  let warned = false;
  sub.on('message', onHint);
  sub.on('error', (err: Error) => {
    if (!warned)
      logger?.warn(
        { err: errorMessage(err) },
        'publish-hint subscription: redis error (hints wait for the 100 ms passes)',
      );
    warned = true;
  });
  sub.on('ready', () => {
    if (warned) logger?.info('publish-hint subscription restored');
    warned = false;
  });
  const ready = sub.subscribe(hintsChannel(prefix)).then(
    () => undefined,
    (err: unknown) => {
      logger?.warn(
        { err: errorMessage(err) },
        'cannot subscribe to publish hints (they wait for the 100 ms passes)',
      );
    },
  );
  return { ready, close: () => disconnectRedis(sub) };
}
