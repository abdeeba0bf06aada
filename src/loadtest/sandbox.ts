/**
 * A throwaway corner of the real servers for a load test: its own PostgreSQL
 * database (migrated), Redis key prefix and RabbitMQ queue prefix, so a load
 * test never touches the data of a running demo or site. cleanup() drops all.
 */
import { randomBytes } from 'node:crypto';
import {
  loadConfig,
  SETTINGS,
  type Config,
  type ConfigOverrides,
  type SettingKey,
} from '../core/config.js';
import { dropDatabase, withDatabase } from '../adapters/postgres/pool.js';
import { migrate } from '../adapters/postgres/migrate.js';
import { createRedis } from '../adapters/redis/client.js';
import { createAmqpConnection } from '../adapters/rabbitmq/connection.js';
import type { Logger } from '../core/logger.js';
import { errorMessage } from '../core/errors.js';

export interface Sandbox {
  id: string;
  config: Config;
  /** The sandbox as environment variables, for child `ingest` processes. */
  env: Record<string, string>;
  /** Queues to delete at cleanup (besides none: queue names are not listable without the management API). */
  queues: Set<string>;
  /** Where its data lives, for a progress line (what to remove by hand if cleanup never ran). */
  where: string;
  cleanup(): Promise<void>;
}

/** The settings that say where a sandbox's data lives (what a child process must inherit). */
export const SANDBOX_SETTINGS = [
  'pgUrl',
  'registryUrl',
  'redisUrl',
  'amqpUrl',
  'redisPrefix',
  'queuePrefix',
  'queueType',
] as const satisfies readonly SettingKey[];

export function configToEnv(config: Config, keys: readonly SettingKey[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of keys) {
    const v = config[k];
    if (v !== undefined) env[SETTINGS[k].env] = String(v);
  }
  return env;
}

export async function createSandbox(
  base: Config,
  label: string,
  logger: Logger,
  overrides: ConfigOverrides = {},
): Promise<Sandbox> {
  const id = `${label}_${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const pgUrl = withDatabase(base.pgUrl, `ingest_${id}`);
  await migrate(pgUrl);
  const config = loadConfig(
    {
      ...Object.fromEntries(Object.entries(base).filter(([, v]) => v !== undefined)),
      pgUrl,
      registryUrl: base.registryUrl === base.pgUrl ? pgUrl : base.registryUrl,
      redisPrefix: `ingest_${id}:`,
      queuePrefix: `${id}.`,
      ...overrides,
    } as ConfigOverrides,
    {},
  );
  const queues = new Set<string>();
  return {
    id,
    config,
    env: configToEnv(config, SANDBOX_SETTINGS),
    queues,
    where: `database ingest_${id}, queues ${config.queuePrefix}*, Redis keys ${config.redisPrefix}*`,
    async cleanup() {
      await dropDatabase(pgUrl).catch((err: unknown) =>
        logger.warn({ err: errorMessage(err) }, 'could not drop the load-test database'),
      );
      await deleteRedisPrefix(config.redisUrl, config.redisPrefix);
      await deleteQueues(config.amqpUrl, queues, logger);
    },
  };
}

/** Delete every Redis key under a prefix. */
export async function deleteRedisPrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = createRedis(redisUrl, { failFast: false });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Delete RabbitMQ queues by name (missing ones are fine). */
export async function deleteQueues(
  amqpUrl: string,
  names: Iterable<string>,
  logger: Logger,
): Promise<void> {
  const list = [...names];
  if (list.length === 0) return;
  const conn = createAmqpConnection({ url: amqpUrl, logger });
  try {
    await conn.ready();
    for (const q of list) {
      const ch = await conn.createChannel();
      await ch.deleteQueue(q).catch(() => undefined);
      await ch.close().catch(() => undefined);
    }
  } finally {
    await conn.close();
  }
}
