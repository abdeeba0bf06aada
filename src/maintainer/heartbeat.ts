/**
 * The maintainer's heartbeat: a Redis key holding the time of its last pass.
 * The dispatcher reads it; when it is older than config.heartbeatStale, the
 * message counts in the registry are not trusted and it falls back to fifo.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../core/config.js';

export function heartbeatKey(config: Pick<Config, 'redisPrefix'>): string {
  return `${config.redisPrefix}maintainer:heartbeat`;
}

export async function writeHeartbeat(
  redis: Redis,
  config: Pick<Config, 'redisPrefix' | 'heartbeatStale'>,
  at: number = Date.now(),
): Promise<void> {
  // Expire long after it is stale, so a dead maintainer leaves no key forever.
  const ttl = Math.max(config.heartbeatStale * 10, 60_000);
  await redis.set(heartbeatKey(config), String(at), 'PX', ttl);
}

/** Last heartbeat (ms since epoch), or null when there is none. */
export async function readHeartbeat(
  redis: Redis,
  config: Pick<Config, 'redisPrefix'>,
): Promise<number | null> {
  const v = await redis.get(heartbeatKey(config));
  const n = v === null ? NaN : Number(v);
  return Number.isFinite(n) ? n : null;
}
