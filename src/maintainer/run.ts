/**
 * The maintainer's composition root: builds its own PostgreSQL pool (accounts),
 * registry, RabbitMQ connection, Redis (heartbeat) and management API client
 * from config; close() closes them all, last created first.
 */
import type { Registry } from 'prom-client';
import { refuseOutdatedSchema } from '../adapters/postgres/migrate.js';
import { createPgPool } from '../adapters/postgres/pool.js';
import { createAmqpConnection } from '../adapters/rabbitmq/connection.js';
import { createRedis } from '../adapters/redis/client.js';
import type { Config } from '../core/config.js';
import { createLifecycle } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { createRegistry } from '../registry/index.js';
import type { QueueRegistry } from '../registry/registry.js';
import { createMaintainer, type Maintainer } from './maintainer.js';
import { createMaintainerMetrics } from './metrics.js';
import {
  createAccountSource,
  createHeartbeatWriter,
  createLedgerPruner,
  createQueueBroker,
} from './ports.js';
import { createManagementApi } from './rabbitmq-management.js';

export async function createMaintainerFromConfig(deps: {
  config: Config;
  logger: Logger;
  /** Reuse a registry (left open by close()). */
  registry?: QueueRegistry;
  metricsRegistry?: Registry;
}): Promise<Maintainer> {
  const { config, logger } = deps;
  const lifecycle = createLifecycle(logger);
  try {
    const pool = createPgPool(config.pgUrl, { max: 2, application: 'ingest-maintain' });
    lifecycle.defer('pg', () => pool.end());
    await refuseOutdatedSchema(pool);
    const registry = deps.registry ?? (await createRegistry({ config, logger, poolSize: 4 }));
    if (!deps.registry) lifecycle.defer('registry', () => registry.close());
    const conn = createAmqpConnection({ url: config.amqpUrl, logger, name: 'ingest-maintain' });
    lifecycle.defer('amqp', () => conn.close());
    await conn.ready();
    const broker = createQueueBroker(conn, config.queueType);
    lifecycle.defer('broker channel', () => broker.close());
    const redis = createRedis(config.redisUrl, { logger, name: 'ingest-maintain' });
    lifecycle.defer('redis', () => redis.disconnect());
    return createMaintainer({
      config,
      logger,
      registry,
      accounts: createAccountSource(pool),
      ledger: createLedgerPruner(pool),
      broker,
      heartbeat: createHeartbeatWriter(redis, config),
      management: config.managementUrl
        ? createManagementApi({ url: config.managementUrl, amqpUrl: config.amqpUrl })
        : undefined,
      metrics: deps.metricsRegistry ? createMaintainerMetrics(deps.metricsRegistry) : undefined,
      onClose: () => lifecycle.close(),
    });
  } catch (err) {
    await lifecycle.close();
    throw err;
  }
}

/** GET /metrics for a process without an HTTP API of its own (--metrics-port). */
export async function serveMetrics(opts: {
  registry: Registry;
  host: string;
  port: number;
  logger: Logger;
}): Promise<{ url: string; close(): Promise<void> }> {
  const { default: Fastify } = await import('fastify');
  const { addMetricsRoute } = await import('../http/metrics.js');
  const app = Fastify({ logger: false });
  addMetricsRoute(app, opts.registry);
  app.get('/health', { schema: {} }, async () => ({ ok: true }));
  const url = await app.listen({ host: opts.host, port: opts.port });
  opts.logger.info({ url: `${url}/metrics` }, 'metrics listening');
  return { url, close: () => app.close() };
}
