import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Channel } from 'amqplib';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';
import {
  createAmqpConnection,
  type AmqpConnection,
} from '../../../src/adapters/rabbitmq/connection.js';
import {
  createConfirmPublisher,
  type ConfirmPublisher,
} from '../../../src/adapters/rabbitmq/confirm-publisher.js';
import { assertAccountQueue } from '../../../src/adapters/rabbitmq/topology.js';
import { silentLogger } from '../../../src/core/logger.js';
import { createReadingsStore } from '../../../src/consumer/readings-store.js';
import { DEFAULT_DRAIN, drainQueue } from '../../../src/consumer/queue-drainer.js';
import { createBatchWriter } from '../../../src/consumer/batch-writer.js';
import { createDeadLetterSink } from '../../../src/deadletters/dead-letter-sink.js';
import { assertDeadQueue, deadQueueName } from '../../../src/deadletters/dead-letter-queues.js';
import { createDeadLetters } from '../../../src/deadletters/dead-letters.js';
import { publishReadings } from '../consumer/publish-helpers.js';

const logger = silentLogger();
let env: TestEnv;
let conn: AmqpConnection;
let publisher: ConfirmPublisher;
let ch: Channel;

beforeAll(async () => {
  env = await createTestEnv();
  conn = createAmqpConnection({ url: env.config.amqpUrl, logger });
  await conn.ready();
  publisher = createConfirmPublisher(conn, { logger });
  ch = await conn.createChannel();
  env.queues.add(await assertDeadQueue(ch, env.config, 'readings'));
  env.queues.add(deadQueueName(env.config, 'alerts'));
});

afterAll(async () => {
  await ch?.close().catch(() => undefined);
  await publisher?.close();
  await conn?.close();
  await env?.cleanup();
});

const drain = (account: string) =>
  drainQueue(
    {
      conn,
      writer: createBatchWriter(
        { pool: env.pool, store: createReadingsStore(), logger },
        { maxValues: 20_000, parallel: 1 },
      ),
      deadLetters: createDeadLetterSink({ publisher, config: env.config }),
      logger,
    },
    DEFAULT_DRAIN,
    { account, queue: env.queueName(account), signal: new AbortController().signal },
  );

describe('dead letters', () => {
  it('lists with reasons without consuming, shows one, requeues it to where it came from', async () => {
    const q = env.queueName('DL1');
    await assertAccountQueue(ch, q, env.config.queueType);
    publishReadings(
      ch,
      q,
      'GW:D',
      'DL1',
      '[{"did":"1","values":[{"p":1,"v":1}],"ts":"yesterday"}]',
      { messageId: 'bad-ts' },
    );
    publishReadings(ch, q, 'GW:D', 'DL1', 'garbage', { messageId: 'garbage' });
    await new Promise((r) => setTimeout(r, 150));
    await drain('DL1');
    const dl = createDeadLetters({ conn, publisher, config: env.config });
    const listed = await dl.list('all', 100);
    expect(listed.map((d) => [d.kind, d.messageId, d.fromQueue, d.source])).toEqual([
      ['readings', 'bad-ts', q, 'GW:D'],
      ['readings', 'garbage', q, 'GW:D'],
    ]);
    expect(listed[0]!.reason).toMatch(/ts must be an ISO-8601/);
    // Listing gave them back.
    expect((await ch.checkQueue(deadQueueName(env.config, 'readings'))).messageCount).toBe(2);
    const shown = await dl.show('readings', 'garbage', 100);
    expect(shown.body).toBe('garbage');
    await expect(dl.show('readings', 'nope', 100)).rejects.toThrow(/no dead letter/);

    const requeued = await dl.requeue('readings', ['bad-ts'], { all: false, limit: 100 });
    expect(requeued.map((d) => d.messageId)).toEqual(['bad-ts']);
    await new Promise((r) => setTimeout(r, 150));
    expect((await ch.checkQueue(deadQueueName(env.config, 'readings'))).messageCount).toBe(1);
    const back = await ch.get(q, { noAck: true });
    expect(back && back.properties.messageId).toBe('bad-ts');
    expect(back && back.properties.headers?.['x-dead-reason']).toBeUndefined();
    await expect(dl.requeue('readings', [], { all: false, limit: 10 })).rejects.toThrow(/--all/);
  });
});
