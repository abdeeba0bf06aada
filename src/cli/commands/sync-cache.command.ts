import type { Command } from 'commander';
import type { SyncResult } from '../../cache-sync/cache-sync.js';
import { errorMessage, IngestError } from '../../core/errors.js';
import { addSettings, contextFrom } from '../settings.js';
import { info, printJson } from '../output.js';

function describe(r: SyncResult): string {
  const parts = (['added', 'updated', 'removed'] as const)
    .filter((k) => r[k].length > 0)
    .map(
      (k) =>
        `${k} ${r[k].length} (${r[k].slice(0, 5).join(', ')}${r[k].length > 5 ? ', ...' : ''})`,
    );
  return parts.length ? parts.join('; ') : 'no changes';
}

export function registerSyncCache(program: Command): void {
  const cmd = program
    .command('sync-cache')
    .description(
      'copy gateways (token hashes, account, enabled, account active) from PostgreSQL into the Redis cache the frontends read; on an interval and at once on every change (LISTEN/NOTIFY)',
    )
    .option('--once', 'one full pass, print what changed, exit')
    .option('--json', 'with --once: print the changes as JSON')
    .addHelpText(
      'after',
      `
Examples:
  ingest sync-cache --once
  ingest sync-cache --interval 30s

Frontends cache each lookup in-process for --token-cache-ttl (default 5s), so a
disabled gateway or revoked token stops working within that TTL after the sync.`,
    );
  addSettings(cmd, ['pgUrl', 'redisUrl', 'redisPrefix', 'cacheSyncInterval']).action(
    async (opts: { once?: boolean; json?: boolean }) => {
      const { config, logger, lifecycle } = await contextFrom(cmd, 'ingest sync-cache');
      const { createPgPool } = await import('../../adapters/postgres/pool.js');
      const { createRedis, redisReady } = await import('../../adapters/redis/client.js');
      const { createCacheSync } = await import('../../cache-sync/cache-sync.js');
      const pool = createPgPool(config.pgUrl, { max: 2, application: 'ingest-sync-cache' });
      lifecycle.defer('pg pool', () => pool.end());
      const redis = createRedis(config.redisUrl, {
        logger,
        name: 'ingest-sync-cache',
        failFast: false,
      });
      lifecycle.defer('redis', () => redis.disconnect());
      let reported = false;
      try {
        const { refuseOutdatedSchema } = await import('../../adapters/postgres/migrate.js');
        await refuseOutdatedSchema(pool);
        try {
          await redisReady(redis, 5_000);
        } catch (err) {
          throw new IngestError('CACHE_UNAVAILABLE', `cannot reach Redis: ${errorMessage(err)}`);
        }
        const sync = createCacheSync({
          config,
          logger,
          pool,
          redis,
          onEvent: (e) => {
            // For an operator at a terminal; a service's log has the logger's line already.
            if (e.type !== 'synced' || opts.once || !process.stdout.isTTY) return;
            const r = e.result;
            const changed = r.added.length + r.updated.length + r.removed.length > 0;
            // The first pass always reports; later interval passes only when they changed something.
            if (!changed && e.reason === 'full' && reported) return;
            reported = true;
            info(
              `${new Date().toISOString()} ${e.reason === 'full' ? 'full sync' : 'change'}: ${describe(r)}`,
            );
          },
        });
        lifecycle.defer('cache sync', () => sync.close());
        if (opts.once) {
          const r = await sync.syncOnce();
          if (opts.json) return printJson(r);
          info(describe(r));
          return;
        }
        lifecycle.handleSignals();
        info(
          `syncing gateways to Redis every ${config.cacheSyncInterval / 1000}s and on every change (Ctrl-C stops)`,
        );
        await Promise.race([sync.start(), lifecycle.closed]);
      } finally {
        await lifecycle.close();
      }
    },
  );
}
