import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';
import { openTestBroker, type TestBroker } from '../../helpers/broker.js';
import { silentLogger } from '../../../src/core/logger.js';
import {
  addEndpoint,
  addRule,
  removeEndpoint,
  removeRule,
  updateEndpoint,
} from '../../../src/alerts/alerts.repo.js';
import { createRuleCache } from '../../../src/alerts/rule-cache.js';
import { createEndpointCache } from '../../../src/alerts/endpoint-cache.js';
import { createAlertOutbox } from '../../../src/alerts/alert-outbox.js';
import { alertsQueueName, assertAlertTopology } from '../../../src/alerts/alert-topology.js';
import { deadQueueName } from '../../../src/deadletters/dead-letter-queues.js';
import { evaluateRules } from '../../../src/alerts/rule-evaluator.js';
import { inTransaction } from '../../../src/adapters/postgres/pool.js';

const logger = silentLogger();
let env: TestEnv;
let broker: TestBroker;

beforeAll(async () => {
  env = await createTestEnv();
  broker = await openTestBroker(env.config, logger);
  await assertAlertTopology(broker.ch, env.config);
  env.queues.add(alertsQueueName(env.config));
  env.queues.add(deadQueueName(env.config, 'alerts'));
  await addEndpoint(env.pool, { name: 'ops', url: 'http://127.0.0.1:9/x' });
  // Rules are refused for an account that does not exist.
  await env.pool.query("INSERT INTO accounts (id) VALUES ('A')");
});

afterAll(async () => {
  await broker?.close();
  await env?.cleanup();
});

const row = {
  account: 'A',
  sourceKey: 'GW',
  device: '1',
  param: 402,
  ts: '2015-04-21T00:00:00.000Z',
  value: 10,
};

describe('rule cache', () => {
  it('sees added and removed rules once the config version moves', async () => {
    const cache = createRuleCache({ pool: env.pool, checkEveryMs: 0 });
    expect(await cache.rulesFor('A')).toEqual([]);
    const r = await addRule(env.pool, { account: 'A', param: 402, above: 5, endpoint: 'ops' });
    expect((await cache.rulesFor('A')).map((x) => x.id)).toEqual([r.id]);
    await removeRule(env.pool, r.id);
    expect(await cache.rulesFor('A')).toEqual([]);
  });

  it('between checks it serves the cached rules (no query per batch)', async () => {
    const cache = createRuleCache({ pool: env.pool, checkEveryMs: 60_000 });
    expect(await cache.rulesFor('A')).toEqual([]);
    await addRule(env.pool, { account: 'A', param: 402, above: 5, endpoint: 'ops' });
    expect(await cache.rulesFor('A')).toEqual([]);
    await cache.refresh();
    expect(await cache.rulesFor('A')).toHaveLength(1);
  });
});

describe('endpoint cache (notifier)', () => {
  /** The pool, counting the queries that reach PostgreSQL. */
  function counted() {
    let n = 0;
    const pool = {
      query: ((...a: Parameters<typeof env.pool.query>) => {
        n += 1;
        return (env.pool.query as (...x: unknown[]) => unknown)(...a);
      }) as typeof env.pool.query,
    };
    return { pool, queries: () => n };
  }

  it('serves deliveries from memory between version checks: one check, not a query each', async () => {
    const c = counted();
    const cache = createEndpointCache({ pool: c.pool, checkEveryMs: 60_000 });
    expect((await cache.endpoint('ops'))?.url).toBe('http://127.0.0.1:9/x');
    const after = c.queries();
    for (let i = 0; i < 50; i++) expect((await cache.endpoint('ops'))?.url).toBeDefined();
    expect(c.queries()).toBe(after);
  });

  it('an endpoint added a moment ago is found; a removed one is gone once the version moves', async () => {
    const cache = createEndpointCache({ pool: env.pool, checkEveryMs: 60_000 });
    expect(await cache.endpoint('ops')).toBeDefined();
    await addEndpoint(env.pool, { name: 'fresh', url: 'http://127.0.0.1:9/fresh', secret: 's' });
    // Not in the cache yet: checked against the database before it counts as missing.
    expect(await cache.endpoint('fresh')).toMatchObject({ url: 'http://127.0.0.1:9/fresh' });
    await removeEndpoint(env.pool, 'fresh');
    const quick = createEndpointCache({ pool: env.pool, checkEveryMs: 0 });
    expect(await quick.endpoint('fresh')).toBeUndefined();
    expect(await cache.endpoint('nope')).toBeUndefined();
  });

  it('a running cache (default check every second) sees an updated URL and secret within about a second', async () => {
    await addEndpoint(env.pool, { name: 'rot', url: 'http://127.0.0.1:9/old', secret: 'old' });
    const cache = createEndpointCache({ pool: env.pool });
    expect(await cache.endpoint('rot')).toMatchObject({
      url: 'http://127.0.0.1:9/old',
      secret: 'old',
    });
    const changedAt = Date.now();
    await updateEndpoint(env.pool, 'rot', { url: 'http://127.0.0.1:9/new', secret: 'new' });
    let seen = await cache.endpoint('rot');
    while (seen?.secret !== 'new' && Date.now() - changedAt < 6_000) {
      await new Promise((r) => setTimeout(r, 50));
      seen = await cache.endpoint('rot');
    }
    expect(seen).toMatchObject({ url: 'http://127.0.0.1:9/new', secret: 'new' });
    // (a check every second; the margin is for a loaded machine)
    expect(Date.now() - changedAt).toBeLessThan(4_000);
    // Removing the secret is a change too.
    await updateEndpoint(env.pool, 'rot', { secret: null });
    const quick = createEndpointCache({ pool: env.pool, checkEveryMs: 0 });
    expect(await quick.endpoint('rot')).toMatchObject({
      url: 'http://127.0.0.1:9/new',
      secret: null,
    });
  });
});

describe('outbox', () => {
  it('a notification recorded but never published (crash after commit) is published by the sweep, once', async () => {
    const outbox = createAlertOutbox({
      pool: env.pool,
      publisher: broker.publisher,
      config: env.config,
    });
    const rules = await createRuleCache({ pool: env.pool, checkEveryMs: 0 }).rulesFor('A');
    const list = evaluateRules(rules, [row]);
    expect(list).toHaveLength(1);
    const fresh = await inTransaction(env.pool, (c) => outbox.record(c, list));
    expect(fresh).toHaveLength(1);
    // The same crossing again (a replay) is not new.
    expect(await inTransaction(env.pool, (c) => outbox.record(c, list))).toEqual([]);
    // "Crash": never published. The sweep finds it.
    expect(await outbox.sweep(0)).toBe(1);
    expect(await outbox.sweep(0)).toBe(0);
    const ch = await broker.conn.createChannel();
    const msg = await ch.get(alertsQueueName(env.config), { noAck: true });
    expect(msg && msg.properties.messageId).toBe(list[0]!.idempotencyKey);
    expect(await ch.get(alertsQueueName(env.config), { noAck: true })).toBe(false);
    await ch.close();
  });
});
