/**
 * Copies gateways from PostgreSQL into the Redis gateway cache: a full pass on
 * an interval, and targeted passes as soon as the 'ingest_gateways' trigger
 * notifies a change (LISTEN, reconnected with backoff; a reconnect is followed
 * by a full pass, since notifications sent meanwhile are lost).
 */
import pg from 'pg';
import type { Redis } from 'ioredis';
import type { Config } from '../core/config.js';
import { errorMessage } from '../core/errors.js';
import { backoffDelay, sleep } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import {
  createGatewayCache,
  sameEntry,
  toHash,
  type CachedGateway,
} from '../adapters/redis/gateway-cache.js';
import { createGatewaySource } from './gateway-source.js';

export const NOTIFY_CHANNEL = 'ingest_gateways';

export interface SyncResult {
  added: string[];
  updated: string[];
  removed: string[];
}

export type SyncEvent =
  | { type: 'synced'; reason: 'full' | 'notify'; result: SyncResult }
  | { type: 'error'; error: string }
  | { type: 'listening' }
  | { type: 'listen-lost'; error: string };

export interface CacheSync {
  syncOnce(): Promise<SyncResult>;
  /** Targeted pass for the gateways of these keys / accounts. */
  syncChanged(change: { sourceKeys?: string[]; accounts?: string[] }): Promise<SyncResult>;
  /** Interval + LISTEN until close(). */
  start(): Promise<void>;
  /** Resolves once LISTEN is active (tests). */
  listening(): Promise<void>;
  close(): Promise<void>;
}

export function createCacheSync(deps: {
  config: Pick<Config, 'pgUrl' | 'redisPrefix' | 'cacheSyncInterval'>;
  logger: Logger;
  pool: pg.Pool;
  redis: Redis;
  onEvent?: (e: SyncEvent) => void;
}): CacheSync {
  const { config, logger, pool, redis } = deps;
  const cache = createGatewayCache(redis, config.redisPrefix);
  const source = createGatewaySource(pool);
  const stop = new AbortController();
  let listenClient: pg.Client | undefined;
  let intervalTimer: NodeJS.Timeout | undefined;
  let markListening!: () => void;
  const listeningP = new Promise<void>((r) => (markListening = r));
  // Passes run one at a time, so a targeted pass never interleaves with a full one.
  let chain: Promise<unknown> = Promise.resolve();
  let running: Promise<void> | undefined;
  let closed = false;

  const emit = (e: SyncEvent): void => deps.onEvent?.(e);

  function serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = chain.then(fn, fn);
    chain = p.catch(() => undefined);
    return p;
  }

  async function reconcile(
    wanted: readonly CachedGateway[],
    scope: readonly string[],
  ): Promise<SyncResult> {
    // scope: every key that may need a change (wanted keys + keys that may have gone).
    const keys = [...new Set([...scope, ...wanted.map((g) => g.sourceKey)])];
    const current = await cache.rawEntries(keys);
    const have = new Map(keys.map((k, i) => [k, current[i] ?? {}]));
    const wantedKeys = new Set(wanted.map((g) => g.sourceKey));
    const result: SyncResult = { added: [], updated: [], removed: [] };
    const put: CachedGateway[] = [];
    for (const g of wanted) {
      const h = have.get(g.sourceKey) ?? {};
      if (Object.keys(h).length === 0) result.added.push(g.sourceKey);
      else if (!sameEntry(h, toHash(g))) result.updated.push(g.sourceKey);
      else continue;
      put.push(g);
    }
    for (const k of keys) {
      if (!wantedKeys.has(k) && Object.keys(have.get(k) ?? {}).length > 0) result.removed.push(k);
    }
    // A key in the index without a hash (half-removed) is dropped from the index too.
    const stale = keys.filter((k) => !wantedKeys.has(k) && !result.removed.includes(k));
    await cache.apply(put, [...result.removed, ...stale]);
    result.added.sort();
    result.updated.sort();
    result.removed.sort();
    return result;
  }

  function syncOnce(): Promise<SyncResult> {
    return serial(async () => {
      const [wanted, cached] = await Promise.all([source.all(), cache.cachedKeys()]);
      return reconcile(wanted, cached);
    });
  }

  function syncChanged(change: { sourceKeys?: string[]; accounts?: string[] }) {
    return serial(async () => {
      const keys = change.sourceKeys ?? [];
      const wanted = keys.length ? await source.bySourceKeys(keys) : [];
      for (const a of change.accounts ?? []) wanted.push(...(await source.byAccount(a)));
      return reconcile(wanted, keys);
    });
  }

  function report(reason: 'full' | 'notify', result: SyncResult): void {
    const changed = result.added.length + result.updated.length + result.removed.length;
    if (changed > 0 || reason === 'full') emit({ type: 'synced', reason, result });
    if (changed > 0) logger.info({ reason, ...result }, 'gateway cache updated');
  }

  // Notifications arrive in bursts (a bulk update fires one per row): gather them briefly.
  let pending: { sourceKeys: Set<string>; accounts: Set<string> } | undefined;
  let pendingTimer: NodeJS.Timeout | undefined;
  function onNotification(payload: string | undefined): void {
    let msg: { source_key?: unknown; account?: unknown } = {};
    try {
      msg = JSON.parse(payload ?? '{}') as typeof msg;
    } catch {
      logger.warn({ payload }, 'unreadable gateway notification; running a full sync');
      void syncOnce().then((r) => report('full', r), onError);
      return;
    }
    if (!pending) {
      pending = { sourceKeys: new Set(), accounts: new Set() };
      pendingTimer = setTimeout(() => {
        pendingTimer = undefined;
        const p = pending!;
        pending = undefined;
        void syncChanged({ sourceKeys: [...p.sourceKeys], accounts: [...p.accounts] }).then(
          (r) => report('notify', r),
          onError,
        );
      }, 20);
    }
    if (typeof msg.source_key === 'string') pending.sourceKeys.add(msg.source_key);
    if (typeof msg.account === 'string') pending.accounts.add(msg.account);
  }

  let failing = false;
  function onError(err: unknown): void {
    const error = errorMessage(err);
    if (!failing) logger.warn({ err: error }, 'cache sync failed; will retry');
    failing = true;
    emit({ type: 'error', error });
  }

  async function listenLoop(): Promise<void> {
    let attempt = 0;
    while (!stop.signal.aborted) {
      const client = new pg.Client({
        connectionString: config.pgUrl,
        application_name: 'ingest-sync-cache',
      });
      const lost = new Promise<string>((resolve) => {
        client.on('error', (err: Error) => resolve(errorMessage(err)));
        client.on('end', () => resolve('connection ended'));
        stop.signal.addEventListener('abort', () => resolve('closing'), { once: true });
      });
      try {
        await client.connect();
        listenClient = client;
        client.on('notification', (n) => {
          if (n.channel === NOTIFY_CHANNEL) onNotification(n.payload);
        });
        await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
        if (attempt > 0) {
          logger.info('listening for gateway changes again; running a full sync');
          report('full', await syncOnce());
        }
        attempt = 0;
        markListening();
        emit({ type: 'listening' });
        const why = await lost;
        if (stop.signal.aborted) break;
        logger.warn({ err: why }, 'lost the LISTEN connection; reconnecting');
        emit({ type: 'listen-lost', error: why });
      } catch (err) {
        if (stop.signal.aborted) break;
        if (attempt === 0)
          logger.warn({ err: errorMessage(err) }, 'cannot LISTEN for gateway changes; retrying');
        emit({ type: 'listen-lost', error: errorMessage(err) });
      } finally {
        listenClient = undefined;
        await client.end().catch(() => undefined);
      }
      attempt += 1;
      await sleep(backoffDelay(attempt, 200, 10_000), stop.signal);
    }
  }

  async function fullPass(): Promise<void> {
    try {
      report('full', await syncOnce());
      if (failing) logger.info('cache sync works again');
      failing = false;
    } catch (err) {
      onError(err);
    }
  }

  return {
    syncOnce,
    syncChanged,
    async start() {
      if (running) return running;
      running = (async () => {
        const loop = listenLoop();
        await fullPass();
        const tick = (): void => {
          intervalTimer = setTimeout(() => {
            void fullPass().then(() => {
              if (!stop.signal.aborted) tick();
            });
          }, config.cacheSyncInterval);
        };
        tick();
        await loop;
      })();
      return running;
    },
    listening: () => listeningP,
    async close() {
      if (closed) return;
      closed = true;
      stop.abort();
      if (intervalTimer) clearTimeout(intervalTimer);
      if (pendingTimer) clearTimeout(pendingTimer);
      await listenClient?.end().catch(() => undefined);
      await running?.catch(() => undefined);
      await chain.catch(() => undefined);
    },
  };
}
