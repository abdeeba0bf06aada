/**
 * Admin access, the heartbeat fallback (with its log lines), and replicas:
 * two dispatchers on one registry behave as one.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildDispatcherApp } from '../../../src/dispatcher/app.js';
import { createDispatcherClient } from '../../../src/dispatcher/client.js';
import { createDispatcher } from '../../../src/dispatcher/dispatcher.js';
import { startDispatcherServer } from '../../../src/dispatcher/server.js';
import { silentLogger } from '../../../src/core/logger.js';
import { writeHeartbeat } from '../../../src/maintainer/heartbeat.js';
import { createPostgresRegistry } from '../../../src/registry/postgres-registry.js';
import type { QueueRegistry } from '../../../src/registry/registry.js';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';
import { captureLogs } from '../../helpers/log-capture.js';

let env: TestEnv;
let registry: QueueRegistry;

beforeAll(async () => {
  env = await createTestEnv();
  registry = createPostgresRegistry({ url: env.config.pgUrl, poolSize: 6 });
});
afterAll(async () => {
  await registry?.close();
  await env?.cleanup();
});
beforeEach(async () => {
  for (const e of await registry.list()) await registry.remove(e.id);
  await registry.setStopped(false);
});

const capture = () => captureLogs('info');

const config = { strategy: 'messages-first', leaseTimeout: 30_000, heartbeatStale: 1_000 } as const;

/** POST through inject; the body defaults to {}. */
function post(
  app: FastifyInstance,
  url: string,
  opts: { payload?: object; headers?: Record<string, string>; remoteAddress?: string } = {},
) {
  return app.inject({ method: 'POST', url, payload: {}, ...opts });
}

describe('admin endpoints', () => {
  it('with INGEST_ADMIN_TOKEN: 401 without or with a wrong Bearer token, 200 with it', async () => {
    await registry.upsertFromAccounts(['A1']);
    const d = createDispatcher({
      config,
      logger: silentLogger(),
      registry,
      readHeartbeat: async () => null,
      sweepMs: 0,
    });
    const app = buildDispatcherApp({ dispatcher: d, logger: silentLogger(), adminToken: 's3cret' });
    for (const url of ['/queue/A1/pause', '/queue/A1/unpause', '/stop', '/start']) {
      const none = await post(app, url);
      expect(none.statusCode).toBe(401);
      expect(none.json()).toMatchObject({ error: 'ADMIN_REQUIRED' });
      const wrong = await post(app, url, { headers: { authorization: 'Bearer nope' } });
      expect(wrong.statusCode).toBe(401);
      const ok = await post(app, url, { headers: { authorization: 'Bearer s3cret' } });
      expect(ok.statusCode).toBe(200);
    }
    // Consumers' endpoints need no token.
    const next = await post(app, '/queue/next', { payload: { consumer: 'c' } });
    expect(next.statusCode).toBe(200);
    await app.close();
  });

  it('without a token: loopback callers only (403 otherwise)', async () => {
    await registry.upsertFromAccounts(['A1']);
    const d = createDispatcher({
      config,
      logger: silentLogger(),
      registry,
      readHeartbeat: async () => null,
      sweepMs: 0,
    });
    const app = buildDispatcherApp({
      dispatcher: d,
      logger: silentLogger(),
      adminToken: undefined,
    });
    const remote = await post(app, '/stop', { remoteAddress: '10.1.2.3' });
    expect(remote.statusCode).toBe(403);
    expect(remote.json()).toMatchObject({ error: 'FORBIDDEN' });
    expect(await registry.isStopped()).toBe(false);
    const local = await post(app, '/queue/A1/pause', { remoteAddress: '127.0.0.1' });
    expect(local.statusCode).toBe(200);
    await app.close();
  });

  it('the client turns a refused token into ADMIN_REQUIRED with the server message', async () => {
    await registry.upsertFromAccounts(['A1']);
    const server = await startDispatcherServer({
      config: env.with({ dispatcherPort: 0, adminToken: 'tok' }),
      logger: silentLogger(),
      registry,
    });
    const bad = createDispatcherClient({ url: server.url, adminToken: 'wrong' });
    const good = createDispatcherClient({ url: server.url, adminToken: 'tok' });
    try {
      await expect(bad.pause('A1')).rejects.toMatchObject({
        code: 'ADMIN_REQUIRED',
        message: expect.stringContaining('admin token required'),
      });
      await good.pause('A1');
      expect((await registry.get('A1'))?.state).toBe('paused');
    } finally {
      bad.close();
      good.close();
      await server.close();
    }
  });
});

describe('GET /queue/status counts', () => {
  it("a queue a consumer found empty after the maintainer's count reports 0 ready, not the stale count", async () => {
    await registry.upsertFromAccounts(['C1', 'C2']);
    await registry.updateCounts([
      { id: 'C1', ready: 2, unacked: 0 },
      { id: 'C2', ready: 5, unacked: 1 },
    ]);
    const d = createDispatcher({
      config,
      logger: silentLogger(),
      registry,
      readHeartbeat: async () => Date.now(),
      cacheMs: 0,
      sweepMs: 0,
    });
    // A consumer drains C1 and gives it back empty before the maintainer counts again.
    const grants = [(await d.next({ consumer: 'a' }))!, (await d.next({ consumer: 'b' }))!];
    expect(grants.map((g) => g.queue).sort()).toEqual(['C1', 'C2']);
    for (const g of grants) await d.release(g.queue, g.lease, g.queue === 'C1');
    const st = await d.status();
    const byId = new Map(st.queues.map((q) => [q.id, q]));
    expect(byId.get('C1')).toMatchObject({ state: 'empty', readyCount: 0, messageCount: 0 });
    expect(byId.get('C2')).toMatchObject({ state: 'idle', readyCount: 5, messageCount: 6 });
    expect(st.totals.messages).toBe(6);
    await d.close();
  });
});

describe('strategy and the maintainer heartbeat', () => {
  it('messages-first while the heartbeat is fresh, fifo while stale, logging the switch both ways', async () => {
    await registry.upsertFromAccounts(['S1', 'S2']);
    // S1 known empty, S2 has messages; S2 was served more recently than S1.
    await registry.updateCounts([
      { id: 'S1', ready: 0, unacked: 0 },
      { id: 'S2', ready: 9, unacked: 0 },
    ]);
    let beat: number | null = Date.now();
    const { logger, lines } = capture();
    const d = createDispatcher({
      config,
      logger,
      registry,
      readHeartbeat: async () => beat,
      cacheMs: 0,
      sweepMs: 0,
    });
    const cycle = async (): Promise<string> => {
      await d.describe(); // a fresh heartbeat read, as GET /queue/status does
      const g = (await d.next({ consumer: 'c' }))!;
      await d.release(g.queue, g.lease);
      return g.queue;
    };
    expect(await cycle()).toBe('S2'); // messages first
    expect((await d.describe()).effectiveStrategy).toBe('messages-first');
    beat = Date.now() - 5_000; // stale
    const st = await d.status();
    expect(st.dispatcher).toMatchObject({
      strategy: 'messages-first',
      effectiveStrategy: 'fifo',
      fallback: true,
      maintainer: { alive: false },
    });
    expect(await cycle()).toBe('S1'); // fifo: S1 was served longest ago
    expect(await cycle()).toBe('S2');
    beat = Date.now();
    expect((await d.describe()).effectiveStrategy).toBe('messages-first');
    const msgs = lines.map((l) => l.msg);
    expect(msgs).toContain('maintainer heartbeat stale: falling back to fifo');
    expect(msgs).toContain('maintainer heartbeat fresh again: using messages-first');
    expect(msgs.filter((m) => m.includes('falling back'))).toHaveLength(1);
    await d.close();
  });

  it('no heartbeat at all (Redis unreadable) means stale', async () => {
    const d = createDispatcher({
      config,
      logger: silentLogger(),
      registry,
      readHeartbeat: async () => {
        throw new Error('redis down');
      },
      sweepMs: 0,
    });
    expect((await d.describe()).fallback).toBe(true);
    await d.close();
  });
});

describe('replicas', () => {
  it('two dispatchers on one registry hand out each queue to one consumer at a time, and stop as one', async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `R${i}`);
    await registry.upsertFromAccounts(ids);
    await writeHeartbeat(env.redis, env.config);
    const cfg = env.with({ dispatcherPort: 0, strategy: 'fifo' });
    const s1 = await startDispatcherServer({ config: cfg, logger: silentLogger(), cacheMs: 200 });
    const s2 = await startDispatcherServer({ config: cfg, logger: silentLogger(), cacheMs: 200 });
    const c1 = createDispatcherClient({ url: s1.url });
    const c2 = createDispatcherClient({ url: s2.url });
    try {
      const held = new Set<string>();
      let overlaps = 0;
      let cycles = 0;
      const perReplica = [0, 0];
      const until = Date.now() + 1_500;
      await Promise.all(
        Array.from({ length: 12 }, async (_, i) => {
          const c = i % 2 ? c1 : c2;
          while (Date.now() < until) {
            const g = await c.next({ consumer: `w${i}` });
            if (!g) {
              await delay(2);
              continue;
            }
            if (held.has(g.queue)) overlaps += 1;
            held.add(g.queue);
            await delay(1);
            held.delete(g.queue);
            await c.release(g.queue, { lease: g.lease });
            cycles += 1;
            perReplica[i % 2] = (perReplica[i % 2] ?? 0) + 1;
          }
        }),
      );
      expect(overlaps).toBe(0);
      // Enough traffic through both replicas for a double hand-out to have had its chance.
      expect(cycles).toBeGreaterThan(20);
      expect(perReplica[0]).toBeGreaterThan(5);
      expect(perReplica[1]).toBeGreaterThan(5);
      await c1.stop();
      await expect(c2.next({ consumer: 'x' })).rejects.toMatchObject({
        code: 'DISPATCHER_STOPPED',
      });
      expect((await c2.status()).dispatcher.state).toBe('stopped');
      await c2.start();
      expect(await c1.next({ consumer: 'x' })).not.toBeNull();
    } finally {
      c1.close();
      c2.close();
      await s1.close();
      await s2.close();
    }
  });
});

describe('dead consumer', () => {
  it('a lease that is not renewed is handed out again within the lease timeout', async () => {
    await registry.upsertFromAccounts(['K1']);
    const s = await startDispatcherServer({
      config: env.with({ dispatcherPort: 0, leaseTimeout: '1s', strategy: 'fifo' }),
      logger: silentLogger(),
      registry,
      sweepMs: 200,
    });
    const c = createDispatcherClient({ url: s.url });
    try {
      const dead = (await c.next({ consumer: 'doomed' }))!;
      const t0 = Date.now();
      expect(await c.next({ consumer: 'other' })).toBeNull();
      let again = null;
      while (!again && Date.now() - t0 < 5_000) {
        await delay(100);
        again = await c.next({ consumer: 'other' });
      }
      const waited = Date.now() - t0;
      expect(again?.queue).toBe('K1');
      expect(waited).toBeGreaterThanOrEqual(900);
      expect(waited).toBeLessThan(1_000 + 500); // lease timeout + one sweep + slack
      await expect(c.renew('K1', dead.lease)).rejects.toMatchObject({ code: 'LEASE_NOT_HELD' });
    } finally {
      c.close();
      await s.close();
    }
  });
});
