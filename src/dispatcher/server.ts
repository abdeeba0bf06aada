/**
 * The dispatcher's composition root: registry, Redis (heartbeat), metrics,
 * app, listen. Whatever it creates it closes; what it is handed, it leaves open.
 */
import type { Redis } from 'ioredis';
import { createRedis } from '../adapters/redis/client.js';
import type { Config } from '../core/config.js';
import { errorMessage, isIngestError } from '../core/errors.js';
import { createLifecycle } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { createMetricsRegistry } from '../http/metrics.js';
import { readHeartbeat } from '../maintainer/heartbeat.js';
import { createRegistry } from '../registry/index.js';
import type { QueueRegistry } from '../registry/registry.js';
import { buildDispatcherApp } from './app.js';
import { createDispatcher } from './dispatcher.js';
import { createDispatcherMetrics } from './metrics.js';

export interface DispatcherServer {
  url: string;
  close(): Promise<void>;
}

export interface DispatcherServerDeps {
  config: Config;
  logger: Logger;
  registry?: QueueRegistry;
  redis?: Redis;
  /** Registry connections when it creates its own registry (default 24). */
  poolSize?: number;
  /** Tests shorten the heartbeat/stop-flag cache and the lease sweep. */
  cacheMs?: number;
  sweepMs?: number;
}

export async function startDispatcherServer(deps: DispatcherServerDeps): Promise<DispatcherServer> {
  const { config, logger } = deps;
  const lifecycle = createLifecycle(logger);
  try {
    const registry =
      deps.registry ?? (await createRegistry({ config, logger, poolSize: deps.poolSize ?? 24 }));
    if (!deps.registry) lifecycle.defer('registry', () => registry.close());
    try {
      await registry.isStopped();
    } catch (err) {
      // A registry without its schema is a setup error; one that is down may come back.
      if (isIngestError(err, 'CONFIG_INVALID')) throw err;
      logger.warn(
        { err: errorMessage(err) },
        'queue registry unreachable at start; answering 503 until it is back',
      );
    }
    const redis = deps.redis ?? createRedis(config.redisUrl, { logger, name: 'ingest-dispatch' });
    if (!deps.redis) lifecycle.defer('redis', () => redis.disconnect());
    const metricsRegistry = createMetricsRegistry('dispatcher');
    const dispatcher = createDispatcher({
      config,
      logger,
      registry,
      readHeartbeat: () => readHeartbeat(redis, config),
      metrics: createDispatcherMetrics(metricsRegistry),
      cacheMs: deps.cacheMs,
      sweepMs: deps.sweepMs,
    });
    const app = buildDispatcherApp({
      dispatcher,
      logger,
      adminToken: config.adminToken,
      metricsRegistry,
    });
    lifecycle.defer('http', () => app.close());
    const address = await app.listen({ host: config.host, port: config.dispatcherPort });
    const url = address;
    logger.info(
      {
        url,
        strategy: config.strategy,
        registry: registry.backend,
        leaseTimeoutMs: config.leaseTimeout,
      },
      'dispatcher listening',
    );
    return { url, close: () => lifecycle.close() };
  } catch (err) {
    await lifecycle.close();
    throw err;
  }
}
