/** Redis connections. Commands fail fast while Redis is away instead of queueing forever. */
import { Redis } from 'ioredis';
import type { Logger } from '../../core/logger.js';
import { errorMessage } from '../../core/errors.js';
import { within } from '../../core/lifecycle.js';

export type { Redis };

export function createRedis(
  url: string,
  opts: { logger?: Logger; name?: string; failFast?: boolean } = {},
): Redis {
  let warned = false;
  const client = new Redis(url, {
    connectionName: opts.name ?? 'ingest',
    // A request waiting on a dead Redis should get 503 quickly, not hang.
    maxRetriesPerRequest: opts.failFast === false ? 20 : 1,
    enableOfflineQueue: opts.failFast === false,
    connectTimeout: 3_000,
    retryStrategy: (times: number) => Math.min(times * 200, 2_000),
    lazyConnect: false,
  });
  client.on('error', (err: Error) => {
    if (!warned) opts.logger?.warn({ err: errorMessage(err) }, 'redis error');
    warned = true;
  });
  client.on('ready', () => {
    if (warned) opts.logger?.info('redis connection restored');
    warned = false;
  });
  return client;
}

/** Wait until the client is ready, or fail after timeoutMs. */
export async function redisReady(client: Redis, timeoutMs = 5_000): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    function cleanup(): void {
      clearTimeout(t);
      client.off('ready', onReady);
    }
    client.on('ready', onReady);
  });
}

/**
 * Disconnect. Disconnecting while ioredis is still connecting or in its ready check
 * leaves its 2 s disconnect timer holding the process open: let the connect finish
 * first (bounded by `boundMs`).
 */
export async function disconnectRedis(client: Redis, boundMs = 1_000): Promise<void> {
  if (client.status === 'connecting' || client.status === 'connect') {
    let settle = (): void => undefined;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    client.once('ready', settle);
    client.once('end', settle);
    await within(settled, boundMs);
    client.off('ready', settle);
    client.off('end', settle);
  }
  client.disconnect();
}
