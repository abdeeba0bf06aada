/**
 * Long-poll POST /queue/next ("wait"): over real HTTP against a real registry
 * and Redis. A waiting consumer is never handed a known-empty queue before its
 * deadline, gets a queue the moment one has messages (a publish hint, a queue
 * given back with messages, an unpause), and leaves nothing held when it goes
 * away or the dispatcher closes.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDispatcherClient, type DispatcherClient } from '../../../src/dispatcher/client.js';
import { startDispatcherServer, type DispatcherServer } from '../../../src/dispatcher/server.js';
import { createPostgresRegistry } from '../../../src/registry/postgres-registry.js';
import type { QueueRegistry } from '../../../src/registry/registry.js';
import { silentLogger } from '../../../src/core/logger.js';
import { heartbeatKey, writeHeartbeat } from '../../../src/maintainer/heartbeat.js';
import { addHint } from '../../../src/adapters/redis/queue-hints.js';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';

let env: TestEnv;
let registry: QueueRegistry;
let server: DispatcherServer;
let client: DispatcherClient;

/** Every queue known empty (the maintainer counted none), none held. */
async function reset(ids: string[]): Promise<void> {
  for (const e of await registry.list()) await registry.remove(e.id);
  await registry.upsertFromAccounts(ids);
  await registry.updateCounts(ids.map((id) => ({ id, ready: 0, unacked: 0 })));
  await registry.setStopped(false);
  await writeHeartbeat(env.redis, env.config);
}

async function hint(account: string): Promise<void> {
  const multi = env.redis.multi();
  addHint(multi, env.config.redisPrefix, account);
  await multi.exec();
}

async function waitingGauge(): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const m = /^ingest_dispatcher_waiting_consumers(?:{[^}]*})? (\d+)/m.exec(text);
  return m ? Number(m[1]) : NaN;
}

async function until(what: () => Promise<boolean>, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  env = await createTestEnv();
  registry = createPostgresRegistry({ url: env.config.pgUrl, poolSize: 4 });
  server = await startDispatcherServer({
    config: env.with({ dispatcherPort: 0, strategy: 'messages-first', leaseTimeout: '30s' }),
    logger: silentLogger(),
    cacheMs: 0,
    // Only the pub/sub path and the wake-ups under test can hand a queue out in time.
    hintIntervalMs: 60_000,
    recheckMs: 60_000,
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
  await reset(['W1', 'W2']);
});

describe('POST /queue/next with "wait"', () => {
  it('holds a waiting consumer instead of handing out a known-empty queue; a publish hint hands it out at once', async () => {
    const pending = client.next({ consumer: 'c1', wait: 20_000 });
    await until(async () => (await waitingGauge()) === 1);
    expect((await registry.get('W1'))?.state).toBe('idle');
    expect((await client.status()).dispatcher.waitingConsumers).toBe(1);
    const t0 = Date.now();
    await hint('W2');
    const grant = await pending;
    expect(grant).toMatchObject({ queue: 'W2', lease: expect.any(String) });
    // The hint pump's interval and the re-check are a minute here, the wait 20 s: the
    // pub/sub hint did it.
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await waitingGauge()).toBe(0);
  });

  it('at the deadline answers as without waiting (a known-empty queue may go out)', async () => {
    const t0 = Date.now();
    const grant = await client.next({ consumer: 'c1', wait: 300 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(grant?.queue).toBe('W1');
    // Without "wait" the answer is immediate, as before.
    const t1 = Date.now();
    expect((await client.next({ consumer: 'c2' }))?.queue).toBe('W2');
    expect(Date.now() - t1).toBeLessThan(2_000);
  });

  it('a queue with messages is handed out without waiting at all', async () => {
    await registry.markHasMessages(['W2']);
    const t0 = Date.now();
    expect((await client.next({ consumer: 'c1', wait: 10_000 }))?.queue).toBe('W2');
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('a queue given back with messages left goes to a waiting consumer', async () => {
    await registry.markHasMessages(['W1']);
    const held = (await client.next({ consumer: 'c1', wait: 5_000 }))!;
    expect(held.queue).toBe('W1');
    const waiting = client.next({ consumer: 'c2', wait: 5_000 });
    await until(async () => (await waitingGauge()) === 1);
    // c1 stopped before the queue was drained (its batch was full): not empty.
    await client.release('W1', { lease: held.lease, empty: false });
    expect((await waiting)?.queue).toBe('W1');
  });

  it('the release in a waiting request happens at once, whatever the wait', async () => {
    await registry.markHasMessages(['W1']);
    const held = (await client.next({ consumer: 'c1', wait: 5_000 }))!;
    const next = client.next({
      consumer: 'c1',
      release: held.queue,
      lease: held.lease,
      empty: true,
      wait: 5_000,
    });
    await until(async () => (await registry.get('W1'))?.state === 'idle');
    expect((await registry.get('W1'))?.hasMessages).toBe(false);
    await hint('W1');
    expect(await next).toMatchObject({ queue: 'W1', released: true });
  });

  it('an unpaused queue with messages goes to a waiting consumer', async () => {
    await registry.pause('W2');
    await registry.markHasMessages(['W2']);
    const waiting = client.next({ consumer: 'c1', wait: 5_000 });
    await until(async () => (await waitingGauge()) === 1);
    await client.unpause('W2');
    expect((await waiting)?.queue).toBe('W2');
  });

  it('a consumer that goes away stops waiting at once (not at its deadline)', async () => {
    const gone = new AbortController();
    const pending = client.next({ consumer: 'c1', wait: 20_000 }, { signal: gone.signal });
    await until(async () => (await waitingGauge()) === 1);
    gone.abort();
    await expect(pending).rejects.toThrow(/abandoned/);
    await until(async () => (await waitingGauge()) === 0, 5_000);
  });

  it('a stopped dispatcher answers 503 at once instead of waiting', async () => {
    await client.stop();
    const t0 = Date.now();
    await expect(client.next({ consumer: 'c1', wait: 20_000 })).rejects.toMatchObject({
      code: 'DISPATCHER_STOPPED',
    });
    expect(Date.now() - t0).toBeLessThan(5_000);
    await client.start();
  });

  it('a stop while consumers wait answers them 503 at once', async () => {
    const pending = client.next({ consumer: 'c1', wait: 20_000 });
    await until(async () => (await waitingGauge()) === 1);
    const t0 = Date.now();
    await client.stop();
    await expect(pending).rejects.toMatchObject({ code: 'DISPATCHER_STOPPED' });
    expect(Date.now() - t0).toBeLessThan(5_000);
    await client.start();
  });

  it('a maintainer gone stale mid-wait ends the wait (has_messages is no longer trusted)', async () => {
    const pending = client.next({ consumer: 'c1', wait: 20_000 });
    await until(async () => (await waitingGauge()) === 1);
    const t0 = Date.now();
    await env.redis.del(heartbeatKey(env.config));
    // Once the dispatcher has seen the heartbeat go (its reads are cached)...
    await until(async () => (await client.status()).dispatcher.fallback);
    // ...the waiter's next pass (woken here by an unpause; the re-check is a minute in
    // this file) sees the fallback to fifo and answers as without waiting.
    await client.unpause('W2');
    expect((await pending)?.queue).toBe('W1');
    expect(Date.now() - t0).toBeLessThan(10_000);
    await writeHeartbeat(env.redis, env.config);
  });

  it('400 for a wait over 30 s or not a whole number', async () => {
    for (const wait of [30_001, 1.5, -1, 'soon']) {
      const res = await fetch(`${server.url}/queue/next`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ consumer: 'c1', wait }),
      });
      expect(res.status).toBe(400);
    }
  });
});

describe('closing a dispatcher with consumers waiting', () => {
  it('answers them 204 at once and hands nothing out', async () => {
    await reset(['Z1']);
    const own = await startDispatcherServer({
      config: env.with({ dispatcherPort: 0, strategy: 'messages-first', leaseTimeout: '30s' }),
      logger: silentLogger(),
      cacheMs: 0,
    });
    const c = createDispatcherClient({ url: own.url });
    try {
      // Waits are honoured under messages-first: once this dispatcher has read the heartbeat.
      await until(async () => {
        const h = (await (await fetch(`${own.url}/health`)).json()) as { maintainerAlive: boolean };
        return h.maintainerAlive;
      });
      const pending = c.next({ consumer: 'c1', wait: 20_000 });
      await until(async () => {
        const text = await (await fetch(`${own.url}/metrics`)).text();
        return /^ingest_dispatcher_waiting_consumers\S* 1$/m.test(text);
      });
      const t0 = Date.now();
      await own.close();
      expect(await pending).toBeNull();
      expect(Date.now() - t0).toBeLessThan(2_000);
      expect((await registry.get('Z1'))?.state).toBe('idle');
    } finally {
      c.close();
    }
  });
});
