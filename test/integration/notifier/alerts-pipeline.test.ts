import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';
import { openTestBroker, type TestBroker } from '../../helpers/broker.js';
import { assertAccountQueue } from '../../../src/adapters/rabbitmq/topology.js';
import { silentLogger } from '../../../src/core/logger.js';
import type { Config } from '../../../src/core/config.js';
import { createReadingsStore } from '../../../src/consumer/readings-store.js';
import { DEFAULT_DRAIN, drainQueue } from '../../../src/consumer/queue-drainer.js';
import { createBatchWriter } from '../../../src/consumer/batch-writer.js';
import { createDeadLetterSink } from '../../../src/deadletters/dead-letter-sink.js';
import {
  assertDeadQueue,
  DEAD_HEADERS,
  deadQueueName,
} from '../../../src/deadletters/dead-letter-queues.js';
import { addEndpoint, addRule, listDeliveries } from '../../../src/alerts/alerts.repo.js';
import { createRuleCache } from '../../../src/alerts/rule-cache.js';
import { createAlertOutbox } from '../../../src/alerts/alert-outbox.js';
import {
  alertsQueueName,
  assertAlertTopology,
  retryQueueName,
} from '../../../src/alerts/alert-topology.js';
import { createNotifier, type Notifier } from '../../../src/notifier/notifier.js';
import { publishReadings, reading } from '../consumer/publish-helpers.js';
import {
  startRecordingEndpoint,
  type EndpointHit,
  type RecordingEndpoint,
} from '../../helpers/http-endpoint.js';

const logger = silentLogger();
let env: TestEnv;
let config: Config;
let broker: TestBroker;
let notifier: Notifier | undefined;

let endpoint: RecordingEndpoint;
let hits: EndpointHit[];
/** Path -> how many more requests answer 500 (Infinity: always). */
let failures: Map<string, number>;
let base = '';

beforeAll(async () => {
  env = await createTestEnv();
  config = env.with({ notifyRetries: 3, notifyRetryDelay: '100ms', notifyTimeout: '2s' });
  broker = await openTestBroker(config, logger);
  await assertAlertTopology(broker.ch, config);
  await assertDeadQueue(broker.ch, config, 'readings');
  for (const q of [
    alertsQueueName(config),
    deadQueueName(config, 'alerts'),
    deadQueueName(config, 'readings'),
  ])
    env.queues.add(q);
  for (const d of [100, 200, 400]) env.queues.add(retryQueueName(config, d));
  endpoint = await startRecordingEndpoint();
  ({ hits, failures, base } = endpoint);
});

afterAll(async () => {
  await notifier?.close();
  await broker?.close();
  await endpoint?.close();
  await env?.cleanup();
});

async function drain(account: string): Promise<void> {
  const pool = env.pool;
  await drainQueue(
    {
      conn: broker.conn,
      writer: createBatchWriter(
        {
          pool,
          store: createReadingsStore('copy-ledger'),
          alerts: {
            rules: createRuleCache({ pool, checkEveryMs: 0 }),
            outbox: createAlertOutbox({ pool, publisher: broker.publisher, config }),
          },
          logger,
        },
        { maxValues: 20_000, parallel: 1 },
      ),
      deadLetters: createDeadLetterSink({ publisher: broker.publisher, config }),
      logger,
    },
    DEFAULT_DRAIN,
    { account, queue: env.queueName(account), signal: new AbortController().signal },
  );
}

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('alerts end to end', () => {
  it('notifies once per crossing, retries with backoff, signs, then dead-letters', async () => {
    await addEndpoint(env.pool, { name: 'ops', url: `${base}/ops`, secret: 's3cret' });
    await addEndpoint(env.pool, { name: 'down', url: `${base}/down` });
    await env.pool.query("INSERT INTO accounts (id) VALUES ('A1')");
    await addRule(env.pool, { account: 'A1', param: 402, above: 150_000, endpoint: 'ops' });
    await addRule(env.pool, {
      account: 'A1',
      device: '9',
      param: 404,
      below: 10,
      endpoint: 'down',
    });
    const q = env.queueName('A1');
    await assertAccountQueue(broker.ch, q, config.queueType);
    const hot = reading('12', '2015-04-21T23:15:00+00:00', [
      [402, 191_892],
      [404, 70_010],
    ]);
    const cool = reading('13', '2015-04-21T23:15:00+00:00', [[402, 100]]);
    const low = reading('9', '2015-04-21T23:15:00+00:00', [[404, 1]]);
    publishReadings(broker.ch, q, 'GW:A', 'A1', JSON.stringify([hot, cool, low]));
    await new Promise((r) => setTimeout(r, 150));
    await drain('A1');
    // Replays: the same message (redelivery) and an overlapping batch: no new notification.
    publishReadings(broker.ch, q, 'GW:A', 'A1', JSON.stringify([hot, cool, low]));
    publishReadings(broker.ch, q, 'GW:A', 'A1', JSON.stringify([hot]), { messageId: 'other' });
    await new Promise((r) => setTimeout(r, 150));
    await drain('A1');
    const made = await env.pool.query(
      'SELECT endpoint, published_at FROM alert_notifications ORDER BY endpoint',
    );
    expect(made.rows.map((r: { endpoint: string }) => r.endpoint)).toEqual(['down', 'ops']);
    expect(made.rows.every((r: { published_at: Date | null }) => r.published_at !== null)).toBe(
      true,
    );
    expect((await broker.ch.checkQueue(alertsQueueName(config))).messageCount).toBe(2);

    failures.set('/ops', 2);
    failures.set('/down', Infinity);
    notifier = createNotifier(
      { conn: broker.conn, publisher: broker.publisher, pool: env.pool, config, logger },
      { concurrency: 4 },
    );
    await notifier.start();
    const deliveries = await until(
      () => listDeliveries(env.pool, { limit: 100 }),
      (d) => d.some((x) => x.outcome === 'delivered') && d.some((x) => x.outcome === 'dead'),
    );
    const ops = deliveries.filter((d) => d.endpoint === 'ops').reverse();
    expect(ops.map((d) => [d.attempt, d.outcome, d.httpStatus])).toEqual([
      [1, 'failed', 500],
      [2, 'failed', 500],
      [3, 'delivered', 204],
    ]);
    const down = deliveries.filter((d) => d.endpoint === 'down').reverse();
    expect(down.map((d) => d.outcome)).toEqual(['failed', 'failed', 'failed', 'dead']);

    const opsHits = hits.filter((h) => h.path === '/ops');
    expect(opsHits).toHaveLength(3);
    const keys = new Set(opsHits.map((h) => h.headers['idempotency-key']));
    expect(keys.size).toBe(1);
    const last = opsHits[2]!;
    const expected = `sha256=${createHmac('sha256', 's3cret').update(last.body).digest('hex')}`;
    expect(last.headers['x-ingest-signature']).toBe(expected);
    const payload = JSON.parse(last.body) as {
      condition: string;
      reading: { value: number; device: string };
    };
    expect(payload).toMatchObject({
      condition: 'above',
      reading: { value: 191_892, device: '12' },
    });
    expect(
      hits
        .filter((h) => h.path === '/down')
        .every((h) => h.headers['x-ingest-signature'] === undefined),
    ).toBe(true);

    const dead = await until(
      () => broker.ch.checkQueue(deadQueueName(config, 'alerts')),
      (q2) => q2.messageCount === 1,
    );
    expect(dead.messageCount).toBe(1);
    const msg = await broker.ch.get(deadQueueName(config, 'alerts'), { noAck: false });
    expect(msg && String(msg.properties.headers?.[DEAD_HEADERS.reason])).toMatch(
      /3 attempts failed; last: HTTP 500/,
    );
    if (msg) broker.ch.nack(msg, false, true);
  });
});
