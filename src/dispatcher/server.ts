/**
 * The dispatcher's composition root: registry, Redis (heartbeat), metrics,
 * app, listen. Whatever it creates it closes; what it is handed, it leaves open.
 */
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { createRedis, disconnectRedis } from '../adapters/redis/client.js';
import type { Config } from '../core/config.js';
import { IngestError, errorMessage, isIngestError } from '../core/errors.js';
import { createLifecycle, within } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { createMetricsRegistry } from '../http/metrics.js';
import { readHeartbeat } from '../maintainer/heartbeat.js';
import { createRegistry } from '../registry/index.js';
import type { QueueRegistry } from '../registry/registry.js';
import { buildDispatcherApp } from './app.js';
import { createDispatcher } from './dispatcher.js';
import { createDispatcherMetrics } from './metrics.js';
import { startHintPump } from './hint-pump.js';
import { popHints, subscribeHints } from '../adapters/redis/queue-hints.js';

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
  /** Tests stretch the hint pump's interval and the long-poll re-check (ms). */
  hintIntervalMs?: number;
  recheckMs?: number;
  /**
   * Aborted during start (a signal before the server listens): whatever was opened is
   * closed again and the start rejects, instead of a server nobody will ever close.
   */
  signal?: AbortSignal;
  /** At close, how long requests in flight may finish before their connections are cut (ms). */
  closeGraceMs?: number;
}

/** Bound on closing the registry and Redis at shutdown (ms). */
const RESOURCE_CLOSE_MS = 3_000;

/**
 * Close the HTTP side promptly: stop accepting, close idle keep-alive sockets at
 * once and every socket that turns idle after its last answer (clients on a
 * keep-alive Pool never close them), and after `graceMs` cut whatever is still open.
 */
async function closeHttp(app: FastifyInstance, graceMs: number, logger: Logger): Promise<void> {
  const closing = app.close();
  const reap = setInterval(() => app.server.closeIdleConnections(), 50);
  try {
    if (await within(closing, graceMs)) return;
    logger.warn(
      { graceMs },
      'dispatcher close: requests still in flight, cutting their connections',
    );
    app.server.closeAllConnections();
    await closing;
  } finally {
    clearInterval(reap);
  }
}

function abortedError(): IngestError {
  return new IngestError('DISPATCHER_STOPPED', 'dispatcher start aborted (shutdown requested)');
}

export async function startDispatcherServer(deps: DispatcherServerDeps): Promise<DispatcherServer> {
  const { config, logger, signal } = deps;
  const lifecycle = createLifecycle(logger);
  const checkAborted = (): void => {
    if (signal?.aborted) throw abortedError();
  };
  try {
    checkAborted();
    const registry =
      deps.registry ?? (await createRegistry({ config, logger, poolSize: deps.poolSize ?? 24 }));
    if (!deps.registry)
      lifecycle.defer('registry', async () => {
        if (!(await within(registry.close(), RESOURCE_CLOSE_MS)))
          logger.warn('registry connections did not close in time');
      });
    checkAborted();
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
    checkAborted();
    const redis = deps.redis ?? createRedis(config.redisUrl, { logger, name: 'ingest-dispatch' });
    if (!deps.redis) lifecycle.defer('redis', () => disconnectRedis(redis));
    const metricsRegistry = createMetricsRegistry('dispatcher');
    const metrics = createDispatcherMetrics(metricsRegistry);
    const dispatcher = createDispatcher({
      config,
      logger,
      registry,
      readHeartbeat: () => readHeartbeat(redis, config),
      metrics,
      cacheMs: deps.cacheMs,
      sweepMs: deps.sweepMs,
      recheckMs: deps.recheckMs,
    });
    const hints = startHintPump({
      // Not connected yet (or reconnecting): no hints this round rather than an error;
      // the heartbeat read reports a Redis outage.
      pop: (max) =>
        redis.status === 'ready' ? popHints(redis, config.redisPrefix, max) : Promise.resolve([]),
      mark: (queues) => registry.markHasMessages(queues),
      logger: logger.child({ component: 'dispatcher' }),
      intervalMs: deps.hintIntervalMs,
      onHints: (n) => {
        metrics.hints.inc(n);
        dispatcher.notifyMessages();
      },
    });
    lifecycle.defer('publish hints', () => hints.close());
    // Consumers waiting for work get a hinted queue within milliseconds, not at the next pass.
    const subscription = subscribeHints(
      redis,
      config.redisPrefix,
      () => {
        if (dispatcher.waitingConsumers() > 0) hints.poke();
      },
      logger.child({ component: 'dispatcher' }),
    );
    lifecycle.defer('publish hint subscription', () => subscription.close());
    // Bounded: a Redis that is down at start must not keep the dispatcher from serving.
    await within(subscription.ready, 1_000);
    const app = buildDispatcherApp({
      dispatcher,
      logger,
      adminToken: config.adminToken,
      metricsRegistry,
    });
    lifecycle.defer('http', () => closeHttp(app, deps.closeGraceMs ?? 2_000, logger));
    checkAborted();
    const address = await app.listen({ host: config.host, port: config.dispatcherPort });
    checkAborted();
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
