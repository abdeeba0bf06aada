/**
 * The frontend's composition root: one Redis client, one RabbitMQ connection
 * with a few confirm channels, the app; listen, and an idempotent close() that
 * drains: /ready turns 503, no new connections, in-flight requests finish and
 * get their confirms, then channels and connections close.
 */
import type { Server } from 'node:http';
import net from 'node:net';
import type { Registry } from 'prom-client';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import { createRedis, redisReady } from '../adapters/redis/client.js';
import { createGatewayCache } from '../adapters/redis/gateway-cache.js';
import { createGatewayStats } from '../adapters/redis/gateway-stats.js';
import { createAmqpConnection } from '../adapters/rabbitmq/connection.js';
import { createConfirmPublisher } from '../adapters/rabbitmq/confirm-publisher.js';
import { createMetricsRegistry } from '../http/metrics.js';
import { buildFrontendApp, type Readiness } from './app.js';
import { createAccountQueues } from './account-queues.js';
import { createFrontendMetrics } from './frontend-metrics.js';
import { createRateLimiter } from './rate-limiter.js';
import { createReadingsPublisher } from './readings-publisher.js';
import { createTokenChecker } from './token-check.js';

export interface FrontendServer {
  url: string;
  readiness(): Readiness;
  close(): Promise<void>;
}

export interface StartFrontendOptions {
  config: Config;
  logger: Logger;
  /** Confirm channels over the one connection. */
  channels?: number;
  /** Metrics text override (the cluster worker asks the primary for the aggregate). */
  metricsText?: (registry: Registry) => Promise<string>;
  /** How long to wait for Redis and RabbitMQ before listening anyway (default 3 s). */
  startupWaitMs?: number;
  /** Called with the registry before listening (cluster workers register it for aggregation). */
  onRegistry?: (registry: Registry) => void;
  /** On close: how long open connections get to close after their next answer (default 1 s). */
  drainGraceMs?: number;
}

/** Resolves once the server has no open connection, or after `ms`. */
async function connectionsClosed(server: Server, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const open = await new Promise<number>((resolve) =>
      server.getConnections((err, n) => resolve(err ? 0 : n)),
    );
    if (open === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function bounded(p: Promise<void>, ms: number, what: string, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      logger.warn({ what, ms }, 'close did not finish in time; going on');
      resolve();
    }, ms);
  });
  await Promise.race([p.catch(() => undefined), late]);
  clearTimeout(timer);
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startFrontendServer(opts: StartFrontendOptions): Promise<FrontendServer> {
  const { config } = opts;
  const logger = opts.logger.child({ component: 'frontend' });
  const redis = createRedis(config.redisUrl, { logger, name: 'ingest-frontend' });
  const conn = createAmqpConnection({ url: config.amqpUrl, logger, name: 'ingest-frontend' });
  const confirm = createConfirmPublisher(conn, { channels: opts.channels ?? 4, logger });
  const registry = createMetricsRegistry('frontend');
  opts.onRegistry?.(registry);
  const metrics = createFrontendMetrics(registry);
  const queues = createAccountQueues({ conn, config, logger });
  const gateways = createGatewayCache(redis, config.redisPrefix);
  let draining = false;
  const readiness = (): Readiness => ({
    redis: redis.status === 'ready',
    rabbitmq: conn.connected,
    draining,
  });

  async function closeConnections(): Promise<void> {
    // Closing channels of a connection that just died can wait forever for a close-ok.
    await bounded(confirm.close(), 2_000, 'publish channels', logger);
    await bounded(conn.close(), 2_000, 'RabbitMQ connection', logger);
    redis.disconnect();
  }

  let app: ReturnType<typeof buildFrontendApp>;
  try {
    app = buildFrontendApp({
      config,
      logger,
      tokens: createTokenChecker({ load: (k) => gateways.get(k), ttlMs: config.tokenCacheTtl }),
      rateLimiter: createRateLimiter(config.rateLimit),
      queues,
      publisher: createReadingsPublisher({
        config,
        publisher: confirm,
        queues,
        observeConfirm: (s) => metrics.confirmSeconds.observe(s),
        onFailure: (code) => metrics.publishFailures.inc({ code }),
      }),
      stats: createGatewayStats(redis, config.redisPrefix),
      gateways,
      metrics,
      metricsText: async () => ({
        contentType: registry.contentType,
        text: opts.metricsText ? await opts.metricsText(registry) : await registry.metrics(),
      }),
      readiness,
    });
  } catch (err) {
    // A setting the HTTP server refuses: the connections opened above would keep us alive.
    await closeConnections();
    throw err;
  }

  let closing: Promise<void> | undefined;
  async function shutdown(): Promise<void> {
    draining = true;
    // No new connections; those open are served for a moment more, every answer with
    // Connection: close, so that gateways on keep-alive connections get an answer and a clean
    // close instead of a socket cut under a request they are sending (http.Server#close would
    // cut the idle ones at once). Over as soon as none is left.
    if (app.server.listening) net.Server.prototype.close.call(app.server);
    await connectionsClosed(app.server, opts.drainGraceMs ?? 1_000);
    try {
      // Stops accepting; waits for in-flight requests (and so their confirms).
      await app.close();
    } finally {
      await closeConnections();
    }
  }

  // Give the connections a moment, so the first requests do not get 503 for a
  // server that is merely still connecting; a server that is down is not waited for.
  const wait = opts.startupWaitMs ?? 3_000;
  await Promise.all([
    redisReady(redis, wait).catch(() =>
      logger.warn('Redis not reachable yet; answering 503 until it is'),
    ),
    conn
      .ready(wait)
      .catch(() => logger.warn('RabbitMQ not reachable yet; answering 503 until it is')),
  ]);

  try {
    await app.listen({ port: config.frontendPort, host: config.host });
  } catch (err) {
    await shutdown();
    throw err;
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.frontendPort;
  const url = `http://${urlHost(config.host)}:${port}`;
  logger.info({ url }, 'frontend listening');
  return {
    url,
    readiness,
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
}
