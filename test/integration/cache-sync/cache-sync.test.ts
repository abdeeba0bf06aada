/** Cache sync PostgreSQL -> Redis: full passes, LISTEN/NOTIFY reaction, and what the frontend's token check then sees. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCacheSync,
  type CacheSync,
  type SyncEvent,
} from '../../../src/cache-sync/cache-sync.js';
import { createProvisioning, type Provisioning } from '../../../src/provisioning/provisioning.js';
import {
  createGatewayCache,
  gatewayIndexKey,
  gatewayKey,
} from '../../../src/adapters/redis/gateway-cache.js';
import { hashToken } from '../../../src/provisioning/tokens.js';
import { createTokenChecker } from '../../../src/frontend/token-check.js';
import { isIngestError } from '../../../src/core/errors.js';
import { silentLogger } from '../../../src/core/logger.js';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';

let env: TestEnv;
let prov: Provisioning;
let sync: CacheSync;
const events: SyncEvent[] = [];

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 3_000): Promise<T> {
  const deadline = Date.now() + ms;
  let v = await fn();
  while (!ok(v) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    v = await fn();
  }
  return v;
}

beforeAll(async () => {
  // An interval far beyond the test: every reaction below comes from LISTEN/NOTIFY.
  env = await createTestEnv({ cacheSyncInterval: '1h' });
  prov = createProvisioning({ pool: env.pool, config: env.config });
  sync = createCacheSync({
    config: env.config,
    logger: silentLogger(),
    pool: env.pool,
    redis: env.redis,
    onEvent: (e) => events.push(e),
  });
});

afterAll(async () => {
  await sync?.close();
  await env?.cleanup();
});

describe('syncOnce', () => {
  it('adds, updates and removes, and reports what it changed', async () => {
    await prov.addAccount({ id: 'ACC1' });
    const { token } = await prov.addGateway({ sourceKey: 'GW:01', accountId: 'ACC1' });
    await prov.addGateway({ sourceKey: 'GW:02', accountId: 'ACC1' });
    expect(await sync.syncOnce()).toEqual({ added: ['GW:01', 'GW:02'], updated: [], removed: [] });
    expect(await sync.syncOnce()).toEqual({ added: [], updated: [], removed: [] });

    const h = await env.redis.hgetall(gatewayKey(env.config.redisPrefix, 'GW:01'));
    expect(h).toEqual({
      account: 'ACC1',
      enabled: '1',
      active: '1',
      hash: hashToken(token),
      hint: token.slice(0, 4),
    });
    expect(JSON.stringify(h)).not.toContain(token);

    await prov.setGatewayEnabled('GW:02', false);
    await env.pool.query("DELETE FROM gateways WHERE source_key = 'GW:01'");
    // A stale entry nobody knows about any more (deleted while the sync was down).
    await env.redis.hset(gatewayKey(env.config.redisPrefix, 'GW:99'), {
      account: 'X',
      hash: 'ab',
      enabled: '1',
    });
    await env.redis.sadd(gatewayIndexKey(env.config.redisPrefix), 'GW:99');
    expect(await sync.syncOnce()).toEqual({
      added: [],
      updated: ['GW:02'],
      removed: ['GW:01', 'GW:99'],
    });
    expect(await env.redis.exists(gatewayKey(env.config.redisPrefix, 'GW:01'))).toBe(0);
    expect(await env.redis.smembers(gatewayIndexKey(env.config.redisPrefix))).toEqual(['GW:02']);
    expect((await env.redis.hgetall(gatewayKey(env.config.redisPrefix, 'GW:02'))).enabled).toBe(
      '0',
    );
  });
});

describe('start(): LISTEN/NOTIFY', () => {
  const cache = () => createGatewayCache(env.redis, env.config.redisPrefix);

  beforeAll(async () => {
    void sync.start();
    await sync.listening();
  });

  it('applies a new gateway at once, without waiting for the interval', async () => {
    const t0 = Date.now();
    await prov.addGateway({ sourceKey: 'GW:03', accountId: 'ACC1' });
    const g = await until(
      () => cache().get('GW:03'),
      (v) => v !== null,
    );
    expect(g?.account).toBe('ACC1');
    expect(Date.now() - t0).toBeLessThan(2_000);
    // The pass reports right after its Redis writes land: wait for the report too.
    const notified = await until(
      () =>
        Promise.resolve(
          events.some(
            (e) => e.type === 'synced' && e.reason === 'notify' && e.result.added.includes('GW:03'),
          ),
        ),
      (v) => v,
    );
    expect(notified).toBe(true);
  });

  it('applies account deactivation to every gateway of the account', async () => {
    await prov.setAccountActive('ACC1', false);
    const g = await until(
      () => cache().get('GW:03'),
      (v) => v?.active === false,
    );
    expect(g?.active).toBe(false);
    await prov.setAccountActive('ACC1', true);
    await until(
      () => cache().get('GW:03'),
      (v) => v?.active === true,
    );
  });

  it('a revoked token stops working within the token-cache TTL; rotation keeps both tokens valid', async () => {
    await prov.addAccount({ id: 'ACC2' });
    const { token } = await prov.addGateway({ sourceKey: 'GW:R1', accountId: 'ACC2' });
    await until(
      () => cache().get('GW:R1'),
      (v) => v !== null,
    );
    const ttlMs = 300;
    const checker = createTokenChecker({ load: (k) => cache().get(k), ttlMs });
    expect(await checker.authenticate('GW:R1', token)).toEqual({
      sourceKey: 'GW:R1',
      account: 'ACC2',
    });

    // Rotation with a grace period: old and new tokens both work.
    const rotated = await prov.rotateToken('GW:R1', 3_600_000);
    await until(
      () => cache().get('GW:R1'),
      (v) => v?.oldHash !== null,
    );
    await new Promise((r) => setTimeout(r, ttlMs + 20));
    expect((await checker.authenticate('GW:R1', rotated.token)).account).toBe('ACC2');
    expect((await checker.authenticate('GW:R1', token)).account).toBe('ACC2');

    // Revocation: the old token fails once the cache entry has expired.
    const revoked = await prov.rotateToken('GW:R1', 0);
    const at = Date.now();
    await until(
      () => cache().get('GW:R1'),
      (v) => v?.oldHash === null,
    );
    let refusedAfter = -1;
    while (Date.now() - at < 3_000) {
      try {
        await checker.authenticate('GW:R1', token);
      } catch (err) {
        expect(isIngestError(err, 'UNAUTHORIZED')).toBe(true);
        refusedAfter = Date.now() - at;
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(refusedAfter).toBeGreaterThanOrEqual(0);
    expect(refusedAfter).toBeLessThan(ttlMs + 1_000);
    expect((await checker.authenticate('GW:R1', revoked.token)).account).toBe('ACC2');
    await expect(checker.authenticate('GW:R1', rotated.token)).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
  });

  it('re-LISTENs after losing its connection and catches up with a full pass', async () => {
    const db = new URL(env.config.pgUrl).pathname.slice(1);
    const killed = await env.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE datname = $1 AND application_name = 'ingest-sync-cache'`,
      [db],
    );
    expect(killed.rowCount).toBe(1);
    // Changed right after the kill: it arrives through the catch-up pass or the new LISTEN.
    await prov.addGateway({ sourceKey: 'GW:04', accountId: 'ACC1' });
    const g = await until(
      () => cache().get('GW:04'),
      (v) => v !== null,
      8_000,
    );
    expect(g?.account).toBe('ACC1');
    expect(events.some((e) => e.type === 'listen-lost')).toBe(true);
  });

  it('removes a deleted gateway at once', async () => {
    await env.pool.query("DELETE FROM gateways WHERE source_key = 'GW:03'");
    expect(
      await until(
        () => cache().get('GW:03'),
        (v) => v === null,
      ),
    ).toBeNull();
  });
});
