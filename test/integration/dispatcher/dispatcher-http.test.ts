/** Every row of DESIGN §4's HTTP table, over real HTTP against a real registry and Redis. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDispatcherClient, type DispatcherClient } from '../../../src/dispatcher/client.js';
import { startDispatcherServer, type DispatcherServer } from '../../../src/dispatcher/server.js';
import { createPostgresRegistry } from '../../../src/registry/postgres-registry.js';
import type { QueueRegistry } from '../../../src/registry/registry.js';
import { silentLogger } from '../../../src/core/logger.js';
import { isIngestError } from '../../../src/core/errors.js';
import { writeHeartbeat } from '../../../src/maintainer/heartbeat.js';
import { addHint, hintsKey } from '../../../src/adapters/redis/queue-hints.js';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';

let env: TestEnv;
let registry: QueueRegistry;
let server: DispatcherServer;
let client: DispatcherClient;

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

async function reset(ids: string[]): Promise<void> {
  for (const e of await registry.list()) await registry.remove(e.id);
  await registry.upsertFromAccounts(ids);
  await registry.setStopped(false);
}

beforeAll(async () => {
  env = await createTestEnv();
  registry = createPostgresRegistry({ url: env.config.pgUrl, poolSize: 6 });
  server = await startDispatcherServer({
    config: env.with({ dispatcherPort: 0, strategy: 'fifo', leaseTimeout: '30s' }),
    logger: silentLogger(),
    cacheMs: 0,
  });
  client = createDispatcherClient({ url: server.url });
});

afterAll(async () => {
  client?.close();
  await server?.close();
  await registry?.close();
  await env?.cleanup();
});

beforeEach(async () => {
  await reset(['D1', 'D2']);
});

describe('POST /queue/next', () => {
  it('200 {queue, lease, expiresAt}, then 204 when nothing is left', async () => {
    const a = await post('/queue/next', { consumer: 'c1' });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ queue: 'D1', lease: expect.any(String) });
    expect(Date.parse(String(a.body!.expiresAt))).toBeGreaterThan(Date.now() + 20_000);
    expect((await post('/queue/next', { consumer: 'c2' })).body).toMatchObject({ queue: 'D2' });
    const none = await post('/queue/next', { consumer: 'c3' });
    expect(none.status).toBe(204);
    expect(await client.next({ consumer: 'c3' })).toBeNull();
  });

  it('applies publish hints from Redis to the registry within a fraction of a second', async () => {
    await registry.updateCounts([
      { id: 'D1', ready: 0, unacked: 0 },
      { id: 'D2', ready: 0, unacked: 0 },
    ]);
    const multi = env.redis.multi();
    addHint(multi, env.config.redisPrefix, 'D2');
    await multi.exec();
    const deadline = Date.now() + 3_000;
    while (!(await registry.get('D2'))?.hasMessages && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(await registry.get('D2')).toMatchObject({
      hasMessages: true,
      hintedAt: expect.any(Date),
    });
    expect((await registry.get('D1'))?.hasMessages).toBe(false);
    expect(await env.redis.scard(hintsKey(env.config.redisPrefix))).toBe(0);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/ingest_dispatcher_publish_hints_total\S* 1/);
  });

  it('releases the queue it is handed back in the same call', async () => {
    const a = (await client.next({ consumer: 'c1' }))!;
    await client.next({ consumer: 'c2' });
    const b = await post('/queue/next', {
      consumer: 'c1',
      release: a.queue,
      lease: a.lease,
      empty: true,
    });
    expect(b.status).toBe(200);
    expect(b.body).toMatchObject({ queue: 'D1', released: true });
    const e = await registry.get('D1');
    expect(e?.hasMessages).toBe(false);
  });

  it('400 without a consumer, or a release without its lease', async () => {
    expect((await post('/queue/next', {})).status).toBe(400);
    const r = await post('/queue/next', { consumer: 'c', release: 'D1' });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: 'VALIDATION' });
  });

  it('503 while stopped; release and renew keep working; start resumes', async () => {
    const held = (await client.next({ consumer: 'c1' }))!;
    expect((await post('/stop', {})).status).toBe(200);
    const stopped = await post('/queue/next', { consumer: 'c2' });
    expect(stopped.status).toBe(503);
    expect(stopped.body).toMatchObject({ error: 'DISPATCHER_STOPPED' });
    await expect(client.next({ consumer: 'c2' })).rejects.toMatchObject({
      code: 'DISPATCHER_STOPPED',
    });
    expect((await client.renew(held.queue, held.lease)).expiresAt).toEqual(expect.any(String));
    await client.release(held.queue, { lease: held.lease });
    expect((await client.status()).dispatcher.state).toBe('stopped');
    expect((await post('/start', {})).status).toBe(200);
    expect((await client.next({ consumer: 'c2' }))?.queue).toEqual(expect.any(String));
    expect((await client.status()).dispatcher.state).toBe('running');
  });
});

describe('POST /queue/:id/release and /renew', () => {
  it('release: 200, 404 unknown queue, 409 lease not held', async () => {
    const g = (await client.next({ consumer: 'c1' }))!;
    expect((await post('/queue/NOPE/release', { lease: g.lease })).status).toBe(404);
    const wrong = await post(`/queue/${g.queue}/release`, { lease: 'not-mine' });
    expect(wrong.status).toBe(409);
    expect(wrong.body).toMatchObject({ error: 'LEASE_NOT_HELD' });
    expect((await post(`/queue/${g.queue}/release`, { lease: g.lease })).status).toBe(200);
    await expect(client.release(g.queue, { lease: g.lease })).rejects.toMatchObject({
      code: 'LEASE_NOT_HELD',
    });
    await expect(client.release('NOPE', { lease: g.lease })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect((await post(`/queue/${g.queue}/release`, {})).status).toBe(400);
  });

  it('renew: 200 {expiresAt}; 409 when lost, paused or deleted; 404 unknown', async () => {
    const g = (await client.next({ consumer: 'c1' }))!;
    const r = await post(`/queue/${g.queue}/renew`, { lease: g.lease });
    expect(r.status).toBe(200);
    expect(Date.parse(String(r.body!.expiresAt))).toBeGreaterThanOrEqual(Date.parse(g.expiresAt));
    expect((await post(`/queue/${g.queue}/renew`, { lease: 'x' })).status).toBe(409);
    expect((await post('/queue/NOPE/renew', { lease: g.lease })).status).toBe(404);
    await client.pause(g.queue);
    expect((await post(`/queue/${g.queue}/renew`, { lease: g.lease })).status).toBe(409);
    await client.unpause(g.queue);
    expect((await post(`/queue/${g.queue}/renew`, { lease: g.lease })).status).toBe(200);
    await registry.markDeleted([g.queue]);
    const del = await post(`/queue/${g.queue}/renew`, { lease: g.lease });
    expect(del.status).toBe(409);
    expect(String(del.body!.message)).toMatch(/stop draining/);
  });
});

describe('admin: pause, unpause', () => {
  it('200 and never handed out while paused; 404 unknown', async () => {
    expect((await post('/queue/D1/pause', {})).status).toBe(200);
    expect((await client.next({ consumer: 'c' }))?.queue).toBe('D2');
    expect(await client.next({ consumer: 'c' })).toBeNull();
    expect((await post('/queue/NOPE/pause', {})).status).toBe(404);
    expect((await post('/queue/NOPE/unpause', {})).status).toBe(404);
    await expect(client.pause('NOPE')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const st = await client.status();
    expect(st.queues.find((q) => q.id === 'D1')?.state).toBe('paused');
    expect((await post('/queue/D1/unpause', {})).status).toBe(200);
    expect((await client.next({ consumer: 'c' }))?.queue).toBe('D1');
  });
});

describe('GET /queue/status, /health, /metrics', () => {
  it('lists every queue with its fields, the dispatcher state, strategy and maintainer liveness', async () => {
    const g = (await client.next({ consumer: 'worker-1' }))!;
    await registry.markDeleted(['D2']);
    const res = await fetch(`${server.url}/queue/status`);
    expect(res.status).toBe(200);
    const st = await client.status();
    expect(st.dispatcher).toMatchObject({
      state: 'running',
      strategy: 'fifo',
      effectiveStrategy: 'fifo',
      maintainer: { alive: false, lastHeartbeat: null },
    });
    const d1 = st.queues.find((q) => q.id === g.queue)!;
    expect(d1).toMatchObject({ state: 'busy', consumer: 'worker-1', registryState: 'busy' });
    expect(d1).not.toHaveProperty('leaseId');
    expect(st.queues.find((q) => q.id === 'D2')?.state).toBe('deleted');
    expect(st.totals).toMatchObject({ queues: 2, busy: 1, deleted: 1 });
  });

  it('health and metrics', async () => {
    const h = await fetch(`${server.url}/health`);
    expect(h.status).toBe(200);
    expect(await h.json()).toMatchObject({ ok: true, state: 'running' });
    await client.next({ consumer: 'm' });
    const m = await (await fetch(`${server.url}/metrics`)).text();
    expect(m).toMatch(/ingest_dispatcher_next_total\{result="granted"[^}]*\} \d+/);
    expect(m).toMatch(/ingest_dispatcher_claim_seconds_bucket/);
  });
});

describe('heartbeat', () => {
  it('status reports the maintainer alive once it beats', async () => {
    await writeHeartbeat(env.redis, env.config);
    const st = await client.status();
    expect(st.dispatcher.maintainer.alive).toBe(true);
    expect(st.dispatcher.maintainer.ageMs).toBeLessThan(5_000);
  });
});

describe('client errors', () => {
  it('unreachable dispatcher names the URL it tried', async () => {
    const c = createDispatcherClient({ url: 'http://127.0.0.1:9', timeoutMs: 1_000 });
    try {
      await c.status();
      expect.unreachable();
    } catch (err) {
      expect(isIngestError(err, 'DISPATCHER_UNREACHABLE')).toBe(true);
      expect((err as Error).message).toContain('http://127.0.0.1:9');
    } finally {
      c.close();
    }
  });
});
