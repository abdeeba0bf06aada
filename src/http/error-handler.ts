/** One mapping from thrown errors to HTTP answers, shared by every server. */
import type { FastifyError, FastifyInstance } from 'fastify';
import { IngestError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { createLogThrottle } from '../core/log-throttle.js';

export function installErrorHandler(
  app: FastifyInstance,
  logger: Logger,
  /** The body limit the server was given, named in its 413 answers. */
  opts: { bodyLimit?: number } = {},
): void {
  // A server away fails every request: one line per failure code and route per 10 s.
  const throttle = createLogThrottle();
  app.setErrorHandler((err: unknown, req, reply) => {
    if (err instanceof IngestError) {
      if (err.retryAfter !== undefined) void reply.header('retry-after', String(err.retryAfter));
      const pass = err.status >= 500 ? throttle(`${err.code} ${routeOf(req)}`) : undefined;
      if (pass)
        logger.warn(
          {
            code: err.code,
            route: routeOf(req),
            err: err.message,
            ...(pass.skipped ? { sameSinceLastLine: pass.skipped } : {}),
          },
          'request failed',
        );
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
      return reply.status(fe.statusCode).send({ error: code, message: plainly(fe, req, opts) });
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

/** Fastify's 413 and 415 say what was wrong, not what to send instead: say both. */
function plainly(
  fe: Partial<FastifyError>,
  req: { headers: Record<string, string | string[] | undefined> },
  opts: { bodyLimit?: number },
): string | undefined {
  if (fe.statusCode === 413 && opts.bodyLimit)
    return `request body over the limit of ${opts.bodyLimit} bytes (INGEST_BODY_LIMIT / --body-limit)`;
  if (fe.statusCode === 415) {
    const type = req.headers['content-type'];
    return `unsupported Content-Type ${type ? `"${String(type)}"` : '(none)'}: send application/json`;
  }
  return fe.message;
}

/** The route pattern and path, never the query string (it may carry a source token). */
function routeOf(req: { method: string; url: string; routeOptions?: { url?: string } }): string {
  return `${req.method} ${req.routeOptions?.url ?? req.url.split('?')[0]}`;
}
