/**
 * The dispatcher's HTTP API (DESIGN §4) as a fastify app that tests inject
 * into; server.ts only listens. Every route has a schema.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { makeAdminGuard } from '../http/admin-auth.js';
import { installErrorHandler } from '../http/error-handler.js';
import { addMetricsRoute } from '../http/metrics.js';
import { MAX_WAIT_MS, type Dispatcher, type NextRequest } from './dispatcher.js';

export interface DispatcherAppDeps {
  dispatcher: Dispatcher;
  logger: Logger;
  adminToken: string | undefined;
  metricsRegistry?: Registry;
}

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;

const leaseBody = {
  type: 'object',
  required: ['lease'],
  properties: { lease: { type: 'string', minLength: 1 }, empty: { type: 'boolean' } },
} as const;

const grant = {
  type: 'object',
  properties: {
    queue: { type: 'string' },
    lease: { type: 'string' },
    expiresAt: { type: 'string' },
    released: { type: 'boolean' },
  },
} as const;

const ok = { type: 'object', properties: { ok: { type: 'boolean' } } } as const;

export function buildDispatcherApp(deps: DispatcherAppDeps): FastifyInstance {
  // 'idle': at close, keep-alive sockets with no request in flight are closed at once
  // (server.ts also closes those that turn idle later, and cuts the rest after a grace).
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024, forceCloseConnections: 'idle' });
  installErrorHandler(app, deps.logger);
  const admin = makeAdminGuard(deps.adminToken);
  const d = deps.dispatcher;

  app.post<{ Body: NextRequest }>(
    '/queue/next',
    {
      schema: {
        body: {
          type: 'object',
          required: ['consumer'],
          properties: {
            consumer: { type: 'string', minLength: 1, maxLength: 200 },
            release: { type: 'string', minLength: 1 },
            lease: { type: 'string', minLength: 1 },
            empty: { type: 'boolean' },
            wait: { type: 'integer', minimum: 0, maximum: MAX_WAIT_MS },
          },
        },
        response: { 200: grant },
      },
    },
    async (req, reply) => {
      let clientGone = false;
      // A consumer that goes away while it waits (long-poll) stops the wait.
      const gone = new AbortController();
      const onClose = (): void => {
        if (reply.raw.writableFinished) return;
        clientGone = true;
        gone.abort();
      };
      reply.raw.once('close', onClose);
      let g;
      try {
        g = await d.next(req.body, { signal: gone.signal });
      } finally {
        reply.raw.off('close', onClose);
      }
      if (g && (clientGone || req.raw.socket?.destroyed === true)) {
        // The consumer gave up waiting (client timeout): nobody will drain this queue or
        // release it, so give it back now instead of at lease expiry.
        await d.release(g.queue, g.lease).catch((err: unknown) => {
          deps.logger.warn(
            { queue: g.queue, err: errorMessage(err) },
            'release of unsent grant failed',
          );
        });
        deps.logger.info(
          { queue: g.queue, consumer: req.body.consumer },
          'consumer left before its grant was sent: queue given back',
        );
        return reply.status(204).send();
      }
      if (!g) return reply.status(204).send();
      return g;
    },
  );

  app.post<{ Params: { id: string }; Body: { lease: string; empty?: boolean } }>(
    '/queue/:id/release',
    { schema: { params: idParams, body: leaseBody, response: { 200: ok } } },
    async (req) => {
      await d.release(req.params.id, req.body.lease, req.body.empty);
      return { ok: true };
    },
  );

  app.post<{ Params: { id: string }; Body: { lease: string } }>(
    '/queue/:id/renew',
    {
      schema: {
        params: idParams,
        body: leaseBody,
        response: { 200: { type: 'object', properties: { expiresAt: { type: 'string' } } } },
      },
    },
    async (req) => d.renew(req.params.id, req.body.lease),
  );

  for (const action of ['pause', 'unpause'] as const) {
    app.post<{ Params: { id: string } }>(
      `/queue/:id/${action}`,
      {
        preHandler: admin,
        schema: {
          params: idParams,
          response: {
            200: {
              type: 'object',
              properties: { ok: { type: 'boolean' }, queue: { type: 'string' } },
            },
          },
        },
      },
      async (req) => {
        await d[action](req.params.id);
        return { ok: true, queue: req.params.id };
      },
    );
  }

  const stateReply = {
    200: { type: 'object', properties: { ok: { type: 'boolean' }, state: { type: 'string' } } },
  };
  app.post('/stop', { preHandler: admin, schema: { response: stateReply } }, async () => {
    await d.stop();
    return { ok: true, state: 'stopped' };
  });
  app.post('/start', { preHandler: admin, schema: { response: stateReply } }, async () => {
    await d.start();
    return { ok: true, state: 'running' };
  });

  // The queue list is large and already typed: no response schema, so fastify
  // serialises it as is (a schema here would silently drop unknown fields).
  app.get('/queue/status', { schema: {} }, async () => d.status());

  app.get(
    '/health',
    {
      schema: {
        response: {
          200: {
            type: 'object',
            properties: {
              ok: { type: 'boolean' },
              state: { type: 'string' },
              strategy: { type: 'string' },
              effectiveStrategy: { type: 'string' },
              maintainerAlive: { type: 'boolean' },
            },
          },
        },
      },
    },
    async () => {
      const s = await d.describe();
      return {
        ok: true,
        state: s.state,
        strategy: s.strategy,
        effectiveStrategy: s.effectiveStrategy,
        maintainerAlive: s.maintainer.alive,
      };
    },
  );

  if (deps.metricsRegistry) addMetricsRoute(app, deps.metricsRegistry);
  // preClose: the lease sweep stops as soon as closing starts, not after the last socket.
  app.addHook('preClose', async () => d.close());
  return app;
}
