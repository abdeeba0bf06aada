/** One mapping from thrown errors to HTTP answers, shared by every server. */
import type { FastifyError, FastifyInstance } from 'fastify';
import { IngestError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

export function installErrorHandler(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler((err: unknown, req, reply) => {
    if (err instanceof IngestError) {
      if (err.retryAfter !== undefined) void reply.header('retry-after', String(err.retryAfter));
      if (err.status >= 500)
        logger.warn({ code: err.code, route: routeOf(req), err: err.message }, 'request failed');
      return reply.status(err.status).send(err.toJSON());
    }
    const fe = err as Partial<FastifyError>;
    if (fe.validation) {
      return reply.status(400).send({ error: 'VALIDATION', message: fe.message });
    }
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      const code =
        fe.statusCode === 413
          ? 'BODY_TOO_LARGE'
          : fe.statusCode === 415
            ? 'UNSUPPORTED_MEDIA_TYPE'
            : 'VALIDATION';
      return reply.status(fe.statusCode).send({ error: code, message: fe.message });
    }
    logger.error({ err: errorMessage(err), route: routeOf(req) }, 'unhandled error');
    return reply.status(500).send({ error: 'INTERNAL', message: 'internal error' });
  });
  app.setNotFoundHandler((req, reply) =>
    reply
      .status(404)
      .send({ error: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` }),
  );
}

/** The route pattern and path, never the query string (it may carry a source token). */
function routeOf(req: { method: string; url: string; routeOptions?: { url?: string } }): string {
  return `${req.method} ${req.routeOptions?.url ?? req.url.split('?')[0]}`;
}
