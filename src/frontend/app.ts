/**
 * The frontend HTTP app (DESIGN §3): POST /readings authenticates the gateway,
 * validates every reading, publishes the request as one confirmed persistent
 * message (or a few chunks) and answers 2xx only once all are confirmed.
 * Injectable in tests; server.ts listens and closes.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from '../core/config.js';
import { IngestError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { installErrorHandler } from '../http/error-handler.js';
import type { GatewayCache } from '../adapters/redis/gateway-cache.js';
import type { GatewayStatsStore } from '../adapters/redis/gateway-stats.js';
import { registerAdminRoutes } from './admin-routes.js';
import { installReadingsParser, isReadingsBody } from './body-parser.js';
import type { FrontendMetrics } from './frontend-metrics.js';
import type { AccountQueues } from './account-queues.js';
import type { ReadingsPublisher } from './readings-publisher.js';
import type { RateLimiter } from './rate-limiter.js';
import type { AuthenticatedGateway, TokenChecker } from './token-check.js';

export const TOKEN_PARAM = 'x-dexcell-source-token';

export interface Readiness {
  redis: boolean;
  rabbitmq: boolean;
  draining: boolean;
}

export interface FrontendDeps {
  config: Pick<Config, 'bodyLimit' | 'chunkReadings' | 'maxQueueDepth' | 'adminToken'>;
  logger: Logger;
  tokens: TokenChecker;
  rateLimiter: RateLimiter;
  queues: AccountQueues;
  publisher: ReadingsPublisher;
  stats: GatewayStatsStore;
  gateways: GatewayCache;
  metrics: FrontendMetrics;
  /** Prometheus text (aggregated across workers when clustered). */
  metricsText(): Promise<{ contentType: string; text: string }>;
  readiness(): Readiness;
}

declare module 'fastify' {
  interface FastifyRequest {
    gateway?: AuthenticatedGateway;
    receivedAt?: number;
  }
}

/** Strip the source token from a URL before it reaches a log line. */
export function redactTokenInUrl(url: unknown): unknown {
  return typeof url === 'string' ? url.replace(/(x-dexcell-source-token=)[^&#]*/gi, '$1***') : url;
}

export function buildFrontendApp(deps: FrontendDeps): FastifyInstance {
  const { config, logger, metrics } = deps;
  const app = Fastify({
    logger: false,
    bodyLimit: config.bodyLimit,
    // Keep-alive clients (gateways, load tests) reuse connections; drain closes idle ones.
    keepAliveTimeout: 65_000,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
  });
  // The shared error handler logs req.url, whose query string may hold the token.
  installErrorHandler(
    app,
    logger.child({}, { redact: { paths: ['url'], censor: (v: unknown) => redactTokenInUrl(v) } }),
    { bodyLimit: config.bodyLimit },
  );
  installReadingsParser(app, config);
  app.decorateRequest('gateway', undefined);
  app.decorateRequest('receivedAt', undefined);

  app.addHook('onResponse', async (req, reply) => {
    metrics.requests.inc({
      route: req.routeOptions.url ?? 'unknown',
      status: String(reply.statusCode),
    });
  });

  // While draining, close each connection after its answer instead of waiting out keep-alive.
  app.addHook('onSend', async (_req, reply, payload) => {
    if (deps.readiness().draining) void reply.header('connection', 'close');
    return payload;
  });

  let statsFailing = false;

  app.post(
    '/readings',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { source_key: { type: 'string' }, [TOKEN_PARAM]: { type: 'string' } },
        },
        response: {
          200: {
            type: 'object',
            properties: { accepted: { type: 'integer' }, queue: { type: 'string' } },
            required: ['accepted', 'queue'],
          },
        },
      },
      // Authenticate before the body is read: a stranger's megabytes are never parsed.
      onRequest: async (req) => {
        req.receivedAt = Date.now();
        const q = req.query as Record<string, string | undefined>;
        const header = req.headers[TOKEN_PARAM];
        const token = q[TOKEN_PARAM] ?? (typeof header === 'string' ? header : undefined);
        const gw = await deps.tokens.authenticate(q.source_key, token);
        deps.rateLimiter.take(gw.sourceKey);
        if (config.maxQueueDepth > 0) {
          const depth = await deps.queues.depth(gw.account);
          if (depth > config.maxQueueDepth) {
            throw new IngestError(
              'BACKPRESSURE',
              `queue of account ${gw.account} holds ${depth} messages (limit ${config.maxQueueDepth})`,
              { retryAfter: 5 },
            );
          }
        }
        req.gateway = gw;
      },
    },
    async (req) => {
      const gw = req.gateway!;
      const body = req.body;
      if (!isReadingsBody(body)) throw new IngestError('VALIDATION', 'a JSON body is required');
      const checked = body.checked;
      if (!checked.ok) {
        const { index, reason } = checked;
        metrics.readingsRejected.inc({ reason: 'invalid' }, checked.readings);
        if (index < 0) throw new IngestError('VALIDATION', reason, { details: { reason } });
        throw new IngestError('VALIDATION', `reading ${index}: ${reason}`, {
          details: { index, reason },
        });
      }
      metrics.inFlight.inc();
      try {
        const receivedAt = req.receivedAt ?? Date.now();
        let published;
        try {
          published = await deps.publisher.publish({
            sourceKey: gw.sourceKey,
            account: gw.account,
            chunks: checked.chunks,
            receivedAt,
          });
        } catch (err) {
          metrics.readingsRejected.inc({ reason: 'unavailable' }, checked.readings);
          throw err;
        }
        const n = checked.readings;
        metrics.readingsAccepted.inc(n);
        metrics.messagesPublished.inc(published.messages.length);
        // Durable already: a stats failure is logged and counted, never a 503 (a lost
        // publish hint only delays the queue until the maintainer counts it).
        try {
          const at = new Date(receivedAt).toISOString();
          await deps.stats.record(
            gw.sourceKey,
            published.messages.map((m) => ({ at, ...m })),
            receivedAt,
            gw.account,
          );
          statsFailing = false;
        } catch (err) {
          metrics.statsFailures.inc();
          if (!statsFailing) logger.warn({ err: errorMessage(err) }, 'gateway stats not recorded');
          statsFailing = true;
        }
        // The queue as operators name it (`ingest queues`): the account, without the prefix.
        return { accepted: n, queue: gw.account };
      } finally {
        metrics.inFlight.dec();
      }
    },
  );

  app.get(
    '/health',
    { schema: { response: { 200: { type: 'object', additionalProperties: true } } } },
    async () => ({
      status: 'ok',
    }),
  );

  app.get(
    '/ready',
    {
      schema: {
        response: {
          '2xx': { type: 'object', additionalProperties: true },
          503: { type: 'object', additionalProperties: true },
        },
      },
    },
    async (_req, reply) => {
      const r = deps.readiness();
      const ready = r.redis && r.rabbitmq && !r.draining;
      return reply.status(ready ? 200 : 503).send({ ready, ...r });
    },
  );

  app.get('/metrics', { schema: {} }, async (_req, reply) => {
    const { contentType, text } = await deps.metricsText();
    return reply.header('content-type', contentType).send(text);
  });

  registerAdminRoutes(app, deps);

  return app;
}
