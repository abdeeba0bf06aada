/** Admin pages of the frontend: the gateways it knows (Redis cache) and their traffic stats. */
import type { FastifyInstance } from 'fastify';
import { IngestError, errorMessage } from '../core/errors.js';
import { makeAdminGuard } from '../http/admin-auth.js';
import { maskToken } from '../provisioning/tokens.js';
import type { FrontendDeps } from './app.js';

const errorSchema = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' } },
  additionalProperties: true,
};

export function registerAdminRoutes(
  app: FastifyInstance,
  deps: Pick<FrontendDeps, 'config' | 'logger' | 'gateways' | 'stats'>,
): void {
  const { config, logger } = deps;
  const admin = makeAdminGuard(config.adminToken);
  app.get(
    '/admin/gateways',
    {
      onRequest: admin,
      schema: {
        response: {
          200: { type: 'array', items: { type: 'object', additionalProperties: true } },
          '4xx': errorSchema,
        },
      },
    },
    async () => {
      const keys = (await deps.gateways.cachedKeys()).sort();
      return Promise.all(
        keys.slice(0, 1000).map(async (k) => {
          const g = await deps.gateways.get(k);
          // One gateway's broken stats keys must not take the whole list down.
          const s = await deps.stats.read(k).catch((err: unknown) => {
            logger.warn({ sourceKey: k, err: errorMessage(err) }, 'gateway stats unreadable');
            return undefined;
          });
          return {
            sourceKey: k,
            account: g?.account ?? null,
            enabled: g?.enabled ?? false,
            accountActive: g?.active ?? false,
            token: maskToken(g?.hint),
            readings: s
              ? {
                  hour: s.readings.hour.now,
                  day: s.readings.day.now,
                  week: s.readings.week.now,
                  month: s.readings.month.now,
                }
              : null,
            lastMessageAt: s?.lastMessages[0]?.at ?? null,
          };
        }),
      );
    },
  );

  app.get(
    '/admin/gateways/:key',
    {
      onRequest: admin,
      schema: {
        params: { type: 'object', properties: { key: { type: 'string' } }, required: ['key'] },
        response: { 200: { type: 'object', additionalProperties: true }, '4xx': errorSchema },
      },
    },
    async (req) => {
      const { key } = req.params as { key: string };
      const g = await deps.gateways.get(key);
      if (!g) throw new IngestError('NOT_FOUND', `unknown gateway "${key}"`);
      const s = await deps.stats.read(key);
      return {
        sourceKey: key,
        registered: true,
        account: g.account,
        enabled: g.enabled,
        accountActive: g.active,
        token: maskToken(g.hint),
        oldTokenValidUntil:
          g.oldHash && g.oldExpires && g.oldExpires > Date.now()
            ? new Date(g.oldExpires).toISOString()
            : null,
        readings: s.readings,
        lastMessages: s.lastMessages,
      };
    },
  );
}
