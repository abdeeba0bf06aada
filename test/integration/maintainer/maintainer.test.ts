/** The maintainer's five steps against real PostgreSQL, RabbitMQ and Redis. */
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAmqpConnection,
  type AmqpConnection,
} from '../../../src/adapters/rabbitmq/connection.js';
import { silentLogger } from '../../../src/core/logger.js';
import { readHeartbeat, heartbeatKey } from '../../../src/maintainer/heartbeat.js';
import { createMaintainerFromConfig } from '../../../src/maintainer/run.js';
import { createMetricsRegistry } from '../../../src/http/metrics.js';
import { createProvisioning } from '../../../src/provisioning/provisioning.js';
import { createPostgresRegistry } from '../../../src/registry/postgres-registry.js';
import type { QueueRegistry } from '../../../src/registry/registry.js';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';

let env: TestEnv;
let registry: QueueRegistry;
let conn: AmqpConnection;

async function depth(name: string): Promise<number | undefined> {
  const ch = await conn.createChannel();
  try {
    return (await ch.checkQueue(name)).messageCount;
  } catch {
    return undefined;
  } finally {
    await ch.close().catch(() => undefined);
  }
}

async function publish(name: string, n: number): Promise<void> {
  const ch = await conn.createConfirmChannel();
  for (let i = 0; i < n; i++) ch.sendToQueue(name, Buffer.from('[]'), { persistent: true });
  await ch.waitForConfirms();
  await ch.close();
}

beforeAll(async () => {
  env = await createTestEnv({ managementUrl: 'http://127.0.0.1:9' });
  registry = createPostgresRegistry({ url: env.config.pgUrl, poolSize: 3 });
  conn = createAmqpConnection({ url: env.config.amqpUrl, logger: silentLogger() });
  await conn.ready();
  for (const id of ['A1', 'A2', 'A3', 'A4']) env.queueName(id);
  await env.pool.query(
    `INSERT INTO accounts (id, name, active) VALUES ('A1','one',true),('A2','two',true),('A3','three',false)`,
  );
});

afterAll(async () => {
  await conn?.close();
  await registry?.close();
  await env?.cleanup();
});

/** The config with --delete-grace 0: an empty gone queue is removed in the pass that flags it. */
const noGrace = () => env.with({ managementUrl: 'http://127.0.0.1:9', deleteGrace: '0ms' });

/** One pass of a maintainer of its own, closed afterwards. */
async function onePass(config = env.config) {
  const m = await createMaintainerFromConfig({ config, logger: silentLogger(), registry });
  try {
    return await m.runOnce();
  } finally {
    await m.close();
  }
}

describe('maintainer pass', () => {
  it('1+2+5: active accounts get entries and durable queues of the configured type, counts, a heartbeat', async () => {
    const m = await createMaintainerFromConfig({
      config: env.config,
      logger: silentLogger(),
      registry,
    });
    try {
      const r = await m.runOnce();
      expect(r.errors).toEqual([]);
      expect(r.accounts.created.sort()).toEqual(['A1', 'A2']);
      expect(r.accounts.asserted).toBe(2);
      expect(r.counts).toMatchObject({ source: 'checkQueue', counted: 2, missing: [] });
      expect(r.heartbeat.written).toBe(true);
      expect(await depth(env.queueName('A1'))).toBe(0);
      expect(await depth(env.queueName('A3'))).toBeUndefined(); // inactive: no queue
      // Declared with the configured type: redeclaring as classic is refused.
      const ch = await conn.createChannel();
      ch.on('error', () => undefined);
      await expect(
        ch.assertQueue(env.queueName('A1'), {
          durable: true,
          arguments: { 'x-queue-type': 'classic' },
        }),
      ).rejects.toThrow(/PRECONDITION_FAILED|inequivalent/);
      const beat = await readHeartbeat(env.redis, env.config);
      expect(Date.now() - beat!).toBeLessThan(5_000);
      expect(heartbeatKey(env.config)).toBe(`${env.config.redisPrefix}maintainer:heartbeat`);

      await publish(env.queueName('A1'), 3);
      const r2 = await m.runOnce();
      expect(r2.accounts.created).toEqual([]);
      expect(r2.accounts.asserted).toBe(0); // already declared by this process
      expect(await registry.get('A1')).toMatchObject({
        readyCount: 3,
        messageCount: 3,
        hasMessages: true,
      });
      expect(await registry.get('A2')).toMatchObject({ messageCount: 0, hasMessages: false });
    } finally {
      await m.close();
      await m.close(); // idempotent
    }
  });

  it('3: expired leases, and leases not renewed within --lease-timeout, go back to idle', async () => {
    const m = await createMaintainerFromConfig({
      config: env.with({ managementUrl: 'http://127.0.0.1:9', leaseTimeout: '300ms' }),
      logger: silentLogger(),
      registry,
    });
    try {
      const dead = (await registry.claimNext({
        consumer: 'killed',
        strategy: 'fifo',
        leaseMs: 60_000,
      }))!;
      expect((await m.runOnce()).leases.expired).toEqual([]);
      await delay(400);
      const r = await m.runOnce();
      expect(r.leases.expired).toEqual([dead.queue]);
      expect(await registry.get(dead.queue)).toMatchObject({ state: 'idle', consumer: null });
      const again = await registry.claimNext({
        consumer: 'next',
        strategy: 'fifo',
        leaseMs: 60_000,
      });
      expect(again).not.toBeNull();
      await registry.release(again!.queue, again!.lease);
    } finally {
      await m.close();
    }
  });

  it('4: a deactivated account: an empty queue goes after the grace; one with messages is drained first, never dropped', async () => {
    await env.pool.query(`UPDATE accounts SET active = false WHERE id IN ('A1', 'A2')`);
    const first = await onePass();
    expect(first.errors).toEqual([]);
    expect(first.accounts.deleted).toEqual(['A2']);
    expect(first.accounts.draining).toEqual([{ id: 'A1', messages: 3 }]);
    // Empty, but frontends may still accept for their token-cache TTL: kept for --delete-grace.
    expect(first.deletions.removed).toEqual([]);
    expect(first.deletions.waiting).toEqual([{ id: 'A2', messages: 0, reason: 'grace' }]);
    expect(await depth(env.queueName('A2'))).toBe(0);
    const graceOver = await onePass(noGrace());
    expect(graceOver.deletions.removed).toEqual(['A2']);
    expect(await depth(env.queueName('A2'))).toBeUndefined();
    expect(await registry.get('A2')).toBeNull();
    // A1 keeps its 3 messages and stays a live queue: consumers are handed it and store them.
    expect(await depth(env.queueName('A1'))).toBe(3);
    expect(await registry.get('A1')).toMatchObject({ deleted: false, hasMessages: true });
    // Paused, it is never handed out: the report says so (the CLI tells how to unpause).
    await registry.pause('A1');
    expect((await onePass()).accounts.draining).toEqual([{ id: 'A1', messages: 3, paused: true }]);
    await registry.unpause('A1');
    const lease = await registry.claimNext({
      consumer: 'drainer',
      strategy: 'messages-first',
      leaseMs: 60_000,
    });
    expect(lease?.queue).toBe('A1');
    // While it is being worked (nothing ready, the lease held), it still is not flagged.
    const ch = await conn.createChannel();
    const got = [];
    for (let m = await ch.get(env.queueName('A1')); m; m = await ch.get(env.queueName('A1')))
      got.push(m);
    expect(got).toHaveLength(3);
    const worked = await onePass();
    expect(worked.accounts.draining).toEqual([{ id: 'A1', messages: 0 }]);
    expect(worked.accounts.deleted).toEqual([]);
    for (const m of got) ch.ack(m);
    await ch.close();
    await registry.release('A1', lease!.lease, { empty: true });
    // Drained: flagged (and, with no grace, removed in the same pass).
    const drained = await onePass(noGrace());
    expect(drained.accounts.draining).toEqual([]);
    expect(drained.accounts.deleted).toEqual(['A1']);
    expect(drained.deletions.removed).toEqual(['A1']);
    expect(await depth(env.queueName('A1'))).toBeUndefined();
    expect(await registry.list()).toEqual([]);
  });

  it('4: a message that lands in a queue already flagged deleted brings the queue back to be drained', async () => {
    await env.pool.query(`INSERT INTO accounts (id, name, active) VALUES ('A9', 'nine', true)`);
    try {
      await onePass();
      await env.pool.query(`UPDATE accounts SET active = false WHERE id = 'A9'`);
      // Flagged deleted while empty (as step 1 does), then a request accepted just before the
      // deactivation reached the frontends publishes into it.
      await registry.markDeleted(['A9']);
      await publish(env.queueName('A9'), 2);
      const r = await onePass();
      expect(r.accounts.restored).toEqual([]);
      expect(r.accounts.draining).toEqual([{ id: 'A9', messages: 2 }]);
      expect(r.deletions.removed).toEqual([]);
      expect(await registry.get('A9')).toMatchObject({ deleted: false });
      expect(await depth(env.queueName('A9'))).toBe(2);
    } finally {
      await env.pool.query(`DELETE FROM accounts WHERE id = 'A9'`);
      const ch = await conn.createChannel();
      await ch.purgeQueue(env.queueName('A9')).catch(() => undefined);
      await ch.close().catch(() => undefined);
      await onePass(noGrace());
    }
  });

  it('4: a gone account whose queue still has a consumer attached (unacked messages) is not flagged', async () => {
    await env.pool.query(`INSERT INTO accounts (id, name, active) VALUES ('A7', 'seven', true)`);
    await onePass();
    await env.pool.query(`UPDATE accounts SET active = false WHERE id = 'A7'`);
    const ch = await conn.createChannel();
    const { consumerTag } = await ch.consume(env.queueName('A7'), () => undefined);
    try {
      const r = await onePass(noGrace());
      expect(r.accounts.draining).toContainEqual({ id: 'A7', messages: 0 });
      expect(r.deletions.removed).not.toContain('A7');
      expect(await registry.get('A7')).toMatchObject({ deleted: false });
    } finally {
      await ch.cancel(consumerTag);
      await ch.close();
    }
    const gone = await onePass(noGrace());
    expect(gone.deletions.removed).toContain('A7');
    await env.pool.query(`DELETE FROM accounts WHERE id = 'A7'`);
  });

  it('a removed account is deleted too, and a re-activated one comes back', async () => {
    const m = await createMaintainerFromConfig({
      config: env.config,
      logger: silentLogger(),
      registry,
    });
    try {
      await env.pool.query(`INSERT INTO accounts (id, name) VALUES ('A4', 'four')`);
      expect((await m.runOnce()).accounts.created).toEqual(['A4']);
      await env.pool.query(`DELETE FROM accounts WHERE id = 'A4'`);
      const r = await m.runOnce();
      expect(r.accounts.deleted).toEqual(['A4']);
      expect(r.deletions.waiting).toContainEqual({ id: 'A4', messages: 0, reason: 'grace' });
      expect((await onePass(noGrace())).deletions.removed).toEqual(['A4']);
      await env.pool.query(`UPDATE accounts SET active = true WHERE id = 'A3'`);
      const back = await m.runOnce();
      expect(back.accounts.created).toEqual(['A3']);
      expect(await depth(env.queueName('A3'))).toBe(0);
    } finally {
      await m.close();
    }
  });

  it('an account added and removed between two passes: its queue is adopted, drained, then removed', async () => {
    const prov = createProvisioning({ pool: env.pool, config: env.config, amqp: conn });
    env.queueName('A5');
    env.queueName('A6');
    // `accounts add` declares the queue at once; both go before any pass registered them.
    for (const id of ['A5', 'A6']) {
      expect((await prov.addAccount({ id })).queue?.declared).toBe(true);
      await prov.removeAccount(id);
    }
    await publish(env.queueName('A6'), 2);
    const removed = async () =>
      (await env.pool.query<{ id: string }>('SELECT id FROM gone_accounts ORDER BY id')).rows;
    expect(await removed()).toEqual([{ id: 'A5' }, { id: 'A6' }]);

    const first = await onePass(noGrace());
    expect(first.errors).toEqual([]);
    expect(first.accounts.adopted).toEqual(['A5', 'A6']);
    expect(first.accounts.created).not.toContain('A5');
    expect(await removed()).toEqual([]);
    expect(await registry.get('A6')).toMatchObject({ deleted: false });

    // From here they are gone accounts like any other: A5 (empty) goes, A6 is drained first.
    const second = await onePass(noGrace());
    expect(second.accounts.deleted).toEqual(['A5']);
    expect(second.deletions.removed).toEqual(['A5']);
    expect(second.accounts.draining).toEqual([{ id: 'A6', messages: 2 }]);
    expect(await depth(env.queueName('A5'))).toBeUndefined();
    expect(await depth(env.queueName('A6'))).toBe(2);
    const ch = await conn.createChannel();
    await ch.purgeQueue(env.queueName('A6'));
    await ch.close();
    const third = await onePass(noGrace());
    expect(third.deletions.removed).toEqual(['A6']);
    expect(await depth(env.queueName('A6'))).toBeUndefined();
    expect(await registry.get('A6')).toBeNull();

    // Removed and added again before a pass: nothing to adopt, the live queue stays.
    await prov.addAccount({ id: 'A5' });
    await prov.removeAccount('A5');
    await prov.addAccount({ id: 'A5' });
    const back = await onePass(noGrace());
    expect(back.accounts.adopted).toEqual([]);
    expect(back.accounts.created).toEqual(['A5']);
    expect(await removed()).toEqual([]);
    // Registered: the ordinary way (no grace: flagged and removed in one pass).
    await prov.removeAccount('A5');
    expect((await onePass(noGrace())).deletions.removed).toEqual(['A5']);
    expect(await removed()).toEqual([]);
  });

  it('an account added and deactivated before a pass: what gateways sent meanwhile is drained, then the queue goes; enabling brings it back', async () => {
    const prov = createProvisioning({ pool: env.pool, config: env.config, amqp: conn });
    env.queueName('A8');
    await prov.addAccount({ id: 'A8' });
    // A gateway's readings accepted before the deactivation reached the frontends.
    await publish(env.queueName('A8'), 2);
    await prov.setAccountActive('A8', false);
    const first = await onePass(noGrace());
    expect(first.accounts.adopted).toEqual(['A8']);
    expect(await registry.get('A8')).toMatchObject({ deleted: false, hasMessages: true });
    expect((await onePass(noGrace())).accounts.draining).toEqual([{ id: 'A8', messages: 2 }]);
    const ch = await conn.createChannel();
    await ch.purgeQueue(env.queueName('A8'));
    await ch.close();
    expect((await onePass(noGrace())).deletions.removed).toEqual(['A8']);
    expect(await depth(env.queueName('A8'))).toBeUndefined();
    // Enabled again: the queue is declared at once (and registered at the next pass).
    expect((await prov.setAccountActive('A8', true)).queue?.declared).toBe(true);
    expect((await onePass(noGrace())).accounts.created).toEqual(['A8']);
    expect(await depth(env.queueName('A8'))).toBe(0);
    await env.pool.query(`DELETE FROM accounts WHERE id = 'A8'`);
    await onePass(noGrace());
  });

  it('every step is counted in the metrics', async () => {
    const metricsRegistry = createMetricsRegistry('maintainer', false);
    const m = await createMaintainerFromConfig({
      config: env.config,
      logger: silentLogger(),
      registry,
      metricsRegistry,
    });
    try {
      await m.runOnce();
      const text = await metricsRegistry.metrics();
      for (const step of ['accounts', 'counts', 'leases', 'deletions', 'heartbeat', 'ledger'])
        expect(text).toMatch(
          new RegExp(`ingest_maintainer_steps_total\\{step="${step}",result="ok"[^}]*\\} 1`),
        );
      expect(text).toMatch(/ingest_maintainer_passes_total\{result="ok"[^}]*\} 1/);
    } finally {
      await m.close();
    }
  });

  it('6: consumed message ids past the retention are forgotten, newer ones kept; 0 keeps all', async () => {
    await env.pool.query(
      `INSERT INTO consumed_messages (message_id, source_key, values_count, stored_at)
       SELECT 'old-' || g, 'K', 2, now() - interval '8 days' FROM generate_series(1, 25000) g
       UNION ALL SELECT 'new-' || g, 'K', 2, now() - interval '6 days' FROM generate_series(1, 10) g`,
    );
    const count = async (like: string) =>
      (
        await env.pool.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM consumed_messages WHERE message_id LIKE $1',
          [like],
        )
      ).rows[0]!.n;
    const keep = await onePass(
      env.with({ managementUrl: 'http://127.0.0.1:9', ledgerRetention: '0' }),
    );
    expect(keep.ledger.pruned).toBe(0);
    expect(await count('old-%')).toBe(25_000);
    // Several batches in one pass.
    const r = await onePass();
    expect(r.errors).toEqual([]);
    expect(r.ledger.pruned).toBe(25_000);
    expect(await count('old-%')).toBe(0);
    expect(await count('new-%')).toBe(10);
    await env.pool.query('DELETE FROM consumed_messages');
  });

  it('start() runs passes on the interval until close()', async () => {
    const m = await createMaintainerFromConfig({
      config: env.with({ managementUrl: 'http://127.0.0.1:9', maintainInterval: '100ms' }),
      logger: silentLogger(),
      registry,
    });
    await env.redis.del(heartbeatKey(env.config));
    m.start();
    // Passes keep coming: the heartbeat moves at least twice (polled; the machine may be busy).
    const seen = new Set<number>();
    const deadline = Date.now() + 10_000;
    while (seen.size < 3 && Date.now() < deadline) {
      const hb = await readHeartbeat(env.redis, env.config);
      if (hb !== null) seen.add(hb);
      await delay(50);
    }
    await m.close();
    expect(seen.size).toBeGreaterThanOrEqual(3);
    const later = await readHeartbeat(env.redis, env.config);
    await delay(400);
    expect(await readHeartbeat(env.redis, env.config)).toBe(later); // no pass after close
  });
});
