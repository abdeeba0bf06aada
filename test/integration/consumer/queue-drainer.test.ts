import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';
import { openTestBroker, type TestBroker } from '../../helpers/broker.js';
import { assertAccountQueue } from '../../../src/adapters/rabbitmq/topology.js';
import { silentLogger } from '../../../src/core/logger.js';
import { createReadingsStore } from '../../../src/consumer/readings-store.js';
import { DEFAULT_DRAIN, drainQueue } from '../../../src/consumer/queue-drainer.js';
import { createBatchWriter, type StoredEvent } from '../../../src/consumer/batch-writer.js';
import { createDeadLetterSink } from '../../../src/deadletters/dead-letter-sink.js';
import { assertDeadQueue, DEAD_HEADERS } from '../../../src/deadletters/dead-letter-queues.js';
import { publishReadings, reading } from './publish-helpers.js';

const logger = silentLogger();
let env: TestEnv;
let broker: TestBroker;
let deadQueue: string;

beforeAll(async () => {
  env = await createTestEnv();
  broker = await openTestBroker(env.config, logger);
  deadQueue = await assertDeadQueue(broker.ch, env.config, 'readings');
  env.queues.add(deadQueue);
});

afterAll(async () => {
  await broker?.close();
  await env?.cleanup();
});

async function drain(account: string, events: StoredEvent[] = [], batch = 500) {
  return drainQueue(
    {
      conn: broker.conn,
      writer: createBatchWriter(
        {
          pool: env.pool,
          store: createReadingsStore('copy-ledger'),
          logger,
          onStored: (e) => events.push(e),
        },
        { maxValues: 5, parallel: 1 },
      ),
      deadLetters: createDeadLetterSink({ publisher: broker.publisher, config: env.config }),
      logger,
    },
    { ...DEFAULT_DRAIN, batch, groupValues: 5 },
    { account, queue: env.queueName(account), signal: new AbortController().signal },
  );
}

async function rows(sourceKey: string): Promise<number> {
  const r = await env.pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM readings WHERE source_key = $1',
    [sourceKey],
  );
  return r.rows[0]!.n;
}

async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 150));
}

describe('drainQueue', () => {
  it('stores every value once, acks after commit, dead-letters bad messages with the reason', async () => {
    const q = env.queueName('D1');
    await assertAccountQueue(broker.ch, q, env.config.queueType);
    const good1 = JSON.stringify([
      reading(
        '12',
        '2015-04-21T23:15:00+00:00',
        [
          [402, 191892],
          [404, 70010],
        ],
        1,
      ),
      reading(7, '2015-04-21T23:15:00+00:00', [[402, 1]]),
    ]);
    const good2 = JSON.stringify(reading('12', '2015-04-21T23:30:00+00:00', [[402, 191900]]));
    publishReadings(broker.ch, q, 'GW:1', 'D1', good1, { valueCount: 3 });
    publishReadings(broker.ch, q, 'GW:1', 'D1', '{not json');
    publishReadings(
      broker.ch,
      q,
      'GW:1',
      'D1',
      JSON.stringify([{ did: '1', values: [], ts: 'x' }]),
    );
    publishReadings(broker.ch, q, 'GW:1', 'D1', good2);
    await settle();
    const events: StoredEvent[] = [];
    const res = await drain('D1', events);
    expect(res.messages).toBe(4);
    expect(res.empty).toBe(true);
    expect(await rows('GW:1')).toBe(4);
    const row = await env.pool.query(
      `SELECT device, param, value, sqn FROM readings WHERE source_key='GW:1' AND device='12' AND param=404`,
    );
    expect(row.rows).toEqual([{ device: '12', param: 404, value: 70010, sqn: 1 }]);
    expect((await broker.ch.checkQueue(q)).messageCount).toBe(0);
    const dead1 = await broker.ch.get(deadQueue, { noAck: true });
    const dead2 = await broker.ch.get(deadQueue, { noAck: true });
    expect(dead1 && dead2).toBeTruthy();
    if (!dead1 || !dead2) return;
    expect(String(dead1.properties.headers?.[DEAD_HEADERS.reason])).toMatch(/not JSON/);
    expect(String(dead2.properties.headers?.[DEAD_HEADERS.reason])).toMatch(/values must be/);
    expect(dead1.properties.headers?.[DEAD_HEADERS.queue]).toBe(q);
    expect(dead1.content.toString()).toBe('{not json');
    expect(events.reduce((n, e) => n + e.inserted, 0)).toBe(4);
  });

  it('a redelivered message and an overlapping resend add no duplicate rows', async () => {
    const q = env.queueName('D2');
    await assertAccountQueue(broker.ch, q, env.config.queueType);
    const a = reading('1', '2015-04-21T23:15:00+00:00', [[402, 1]]);
    const b = reading('2', '2015-04-21T23:15:00+00:00', [[402, 2]]);
    const c = reading('3', '2015-04-21T23:15:00+00:00', [[402, 3]]);
    publishReadings(broker.ch, q, 'GW:2', 'D2', JSON.stringify([a, b]));
    await settle();
    await drain('D2');
    expect(await rows('GW:2')).toBe(2);
    // Same bytes again (gateway resend or redelivery), then an overlapping batch, in one group.
    publishReadings(broker.ch, q, 'GW:2', 'D2', JSON.stringify([a, b]));
    publishReadings(broker.ch, q, 'GW:2', 'D2', JSON.stringify([b, c]));
    await settle();
    const events: StoredEvent[] = [];
    await drain('D2', events);
    expect(await rows('GW:2')).toBe(3);
    expect(events.reduce((n, e) => n + e.inserted, 0)).toBe(1);
    expect(events.reduce((n, e) => n + e.skippedMessages, 0)).toBe(1);
  });

  it('a message PostgreSQL refuses is dead-lettered alone; the rest of its batch is stored', async () => {
    const q = env.queueName('D3');
    await assertAccountQueue(broker.ch, q, env.config.queueType);
    // A constraint stands in for anything PostgreSQL refuses that validation let through.
    await env.pool.query(
      "ALTER TABLE readings ADD CONSTRAINT test_refused CHECK (device <> 'refused')",
    );
    publishReadings(
      broker.ch,
      q,
      'GW:3',
      'D3',
      JSON.stringify(reading('1', '2015-04-21T00:00:00Z', [[1, 1]])),
    );
    publishReadings(
      broker.ch,
      q,
      'GW:3',
      'D3',
      JSON.stringify(reading('refused', '2015-04-21T00:00:00Z', [[1, 1]])),
    );
    publishReadings(
      broker.ch,
      q,
      'GW:3',
      'D3',
      JSON.stringify(reading('3', '2015-04-21T00:00:00Z', [[1, 1]])),
    );
    await settle();
    const res = await drain('D3').finally(() =>
      env.pool.query('ALTER TABLE readings DROP CONSTRAINT test_refused'),
    );
    expect(res.messages).toBe(3);
    expect(await rows('GW:3')).toBe(2);
    const dead = await broker.ch.get(deadQueue, { noAck: true });
    expect(dead).toBeTruthy();
    if (!dead) return;
    expect(String(dead.properties.headers?.[DEAD_HEADERS.reason])).toMatch(/PostgreSQL refused/);
    expect((await broker.ch.checkQueue(q)).messageCount).toBe(0);
  });

  it('stops at --batch and leaves the rest in the queue; an empty queue says empty', async () => {
    const q = env.queueName('D4');
    await assertAccountQueue(broker.ch, q, env.config.queueType);
    for (let i = 0; i < 10; i++)
      publishReadings(
        broker.ch,
        q,
        'GW:4',
        'D4',
        JSON.stringify(reading(String(i), '2015-04-21T00:00:00Z', [[1, i]])),
      );
    await settle();
    const first = await drain('D4', [], 4);
    expect(first).toMatchObject({ messages: 4, empty: false });
    await settle();
    expect((await broker.ch.checkQueue(q)).messageCount).toBe(6);
    const rest = await drain('D4');
    expect(rest).toMatchObject({ messages: 6, empty: true });
    expect(await rows('GW:4')).toBe(10);
    expect(await drain('D4')).toMatchObject({ messages: 0, empty: true });
  });

  it('a queue missing in RabbitMQ drains as empty, and the connection stays usable', async () => {
    // Never declared: basic.get answers 404 and closes its channel.
    expect(await drain('D404-missing')).toEqual({ messages: 0, values: 0, empty: true });
    const q = env.queueName('D5');
    await assertAccountQueue(broker.ch, q, env.config.queueType);
    publishReadings(
      broker.ch,
      q,
      'GW:5',
      'D5',
      JSON.stringify(reading('1', '2015-04-21T00:00:00Z', [[1, 1]])),
    );
    await settle();
    expect(await drain('D5')).toMatchObject({ messages: 1, empty: true });
    expect(await rows('GW:5')).toBe(1);
  });
});
