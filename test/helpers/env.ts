/**
 * Isolation for integration tests: each test file gets its own PostgreSQL
 * database (migrated), its own Redis key prefix on DB 15, and its own RabbitMQ
 * queue prefix; cleanup() drops all of them. Never the demo's defaults.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { loadConfig, type Config, type ConfigOverrides } from '../../src/core/config.js';
import {
  createPgPool,
  dropDatabase,
  ensureDatabase,
  withDatabase,
} from '../../src/adapters/postgres/pool.js';
import { applyMigrations } from '../../src/adapters/postgres/migrate.js';
import { deleteQueues, deleteRedisPrefix } from '../../src/loadtest/sandbox.js';
import { silentLogger } from '../../src/core/logger.js';

export const PG_BASE =
  process.env.INGEST_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_BASE = process.env.INGEST_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/15';
export const AMQP_URL = process.env.INGEST_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

export interface TestEnv {
  id: string;
  config: Config;
  pool: pg.Pool;
  redis: Redis;
  /** Queue names made by the test, deleted at cleanup (prefix-matched names are added automatically when declared through `queueName`). */
  queues: Set<string>;
  queueName(account: string): string;
  /** Config with more overrides, same isolated resources. */
  with(overrides: ConfigOverrides): Config;
  cleanup(): Promise<void>;
}

export async function createTestEnv(overrides: ConfigOverrides = {}): Promise<TestEnv> {
  const id = `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const pgUrl = withDatabase(PG_BASE, `ingest_test_${id}`);
  await ensureDatabase(pgUrl);
  const pool = createPgPool(pgUrl, { max: 5, application: `ingest-test-${id}` });
  await applyMigrations(pool);
  const redisPrefix = `ingest_test:${id}:`;
  const queuePrefix = `test.${id}.`;
  const base: ConfigOverrides = {
    pgUrl,
    redisUrl: REDIS_BASE,
    amqpUrl: AMQP_URL,
    redisPrefix,
    queuePrefix,
    logLevel: process.env.INGEST_TEST_LOG_LEVEL ?? 'silent',
    logFormat: 'json',
    ...overrides,
  };
  const config = loadConfig(base, {});
  const redis = new Redis(REDIS_BASE, { maxRetriesPerRequest: 2 });
  const queues = new Set<string>();
  return {
    id,
    config,
    pool,
    redis,
    queues,
    queueName(account: string) {
      const name = `${queuePrefix}${account}`;
      queues.add(name);
      return name;
    },
    with(more: ConfigOverrides) {
      return loadConfig({ ...base, ...more }, {});
    },
    async cleanup() {
      await pool.end().catch(() => undefined);
      await dropDatabase(pgUrl).catch(() => undefined);
      await deleteRedisPrefix(REDIS_BASE, redisPrefix);
      redis.disconnect();
      await deleteQueues(AMQP_URL, queues, silentLogger());
    },
  };
}
