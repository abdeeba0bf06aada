import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';
import { openTestBroker, type TestBroker } from '../../helpers/broker.js';
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
let broker: TestBroker;

beforeAll(async () => {
  env = await createTestEnv();
  broker = await openTestBroker(env.config, logger);
  env.queues.add(await assertDeadQueue(broker.ch, env.config, 'readings'));
  env.queues.add(deadQueueName(env.config, 'alerts'));
});

afterAll(async () => {
  await broker?.close();
  await env?.cleanup();
});

const drain = (account: string) =>
  drainQueue(
    {
      conn: broker.conn,
      writer: createBatchWriter(
        { pool: env.pool, store: createReadingsStore(), logger },
        { maxValues: 20_000, parallel: 1 },
      ),
      deadLetters: createDeadLetterSink({ publisher: broker.publisher, config: env.config }),
      logger,
    },
    DEFAULT_DRAIN,
    { account, queue: env.queueName(account), signal: new AbortController().signal },
  );

/** A quorum queue counts messages given back by a closed channel a moment later: wait for it. */
async function depth(queue: string, want: number, ms = 5_000): Promise<number> {
  const end = Date.now() + ms;
  for (;;) {
    const n = (await broker.ch.checkQueue(queue)).messageCount;
    if (n === want || Date.now() > end) return n;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('dead letters', () => {
  it('lists with reasons without consuming, shows one, requeues it to where it came from', async () => {
    const q = env.queueName('DL1');
    await assertAccountQueue(broker.ch, q, env.config.queueType);
    publishReadings(
      broker.ch,
      q,
      'GW:D',
      'DL1',
      '[{"did":"1","values":[{"p":1,"v":1}],"ts":"yesterday"}]',
      { messageId: 'bad-ts' },
    );
    publishReadings(broker.ch, q, 'GW:D', 'DL1', 'garbage', { messageId: 'garbage' });
    await new Promise((r) => setTimeout(r, 150));
    await drain('DL1');
    const dl = createDeadLetters({
      conn: broker.conn,
      publisher: broker.publisher,
      config: env.config,
    });
    const listed = await dl.list('all', 100);
    expect(listed.map((d) => [d.kind, d.messageId, d.fromQueue, d.source])).toEqual([
      ['readings', 'bad-ts', q, 'GW:D'],
      ['readings', 'garbage', q, 'GW:D'],
    ]);
    expect(listed[0]!.reason).toMatch(/ts must be an ISO-8601/);
    // Listing gave them back.
    expect(await depth(deadQueueName(env.config, 'readings'), 2)).toBe(2);
    const shown = await dl.show('readings', 'garbage', 100);
    expect(shown.body).toBe('garbage');
    await expect(dl.show('readings', 'nope', 100)).rejects.toThrow(/no dead letter/);

    const requeued = await dl.requeue('readings', ['bad-ts'], { all: false, limit: 100 });
    expect(requeued.map((d) => d.messageId)).toEqual(['bad-ts']);
    await new Promise((r) => setTimeout(r, 150));
    expect(await depth(deadQueueName(env.config, 'readings'), 1)).toBe(1);
    const back = await broker.ch.get(q, { noAck: true });
    expect(back && back.properties.messageId).toBe('bad-ts');
    expect(back && back.properties.headers?.['x-dead-reason']).toBeUndefined();
    await expect(dl.requeue('readings', [], { all: false, limit: 10 })).rejects.toThrow(/--all/);
  });

  it('names a dead letter by #position with --kind, and an unknown id requeues nothing', async () => {
    const q = env.queueName('DL2');
    await assertAccountQueue(broker.ch, q, env.config.queueType);
    publishReadings(broker.ch, q, 'GW:E', 'DL2', 'junk-1', { messageId: 'junk-1' });
    publishReadings(broker.ch, q, 'GW:E', 'DL2', 'junk-2', { messageId: 'junk-2' });
    await new Promise((r) => setTimeout(r, 150));
    await drain('DL2');
    const dl = createDeadLetters({
      conn: broker.conn,
      publisher: broker.publisher,
      config: env.config,
    });
    const deadQ = deadQueueName(env.config, 'readings');
    const listed = await dl.list('readings', 100);
    const at = listed.find((d) => d.messageId === 'junk-2')!.index;
    expect(await depth(deadQ, listed.length)).toBe(listed.length);

    // As the help says: "#N" with --kind, and a bare N as before.
    expect((await dl.show('readings', `#${at}`, 100)).messageId).toBe('junk-2');
    expect((await dl.show('readings', String(at), 100)).messageId).toBe('junk-2');
    await expect(dl.show('readings', `#${listed.length + 1}`, 100)).rejects.toThrow(
      `no dead letter "#${listed.length + 1}"`,
    );
    await expect(dl.show('all', `#${at}`, 100)).rejects.toThrow(/--kind readings/);

    // One unknown id among known ones: the command fails and nothing moves.
    await expect(dl.requeue('readings', ['nope'], { all: false, limit: 100 })).rejects.toThrow(
      'no dead letter "nope"',
    );
    await expect(
      dl.requeue('readings', ['junk-1', 'nope'], { all: false, limit: 100 }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await new Promise((r) => setTimeout(r, 150));
    expect(await depth(deadQ, listed.length)).toBe(listed.length);
    expect(await depth(q, 0)).toBe(0);

    // Id and position of the same letter requeue it once.
    const requeued = await dl.requeue('readings', ['junk-2', `#${at}`], {
      all: false,
      limit: 100,
    });
    expect(requeued.map((d) => d.messageId)).toEqual(['junk-2']);
    await new Promise((r) => setTimeout(r, 150));
    expect(await depth(deadQ, listed.length - 1)).toBe(listed.length - 1);
    const back = await broker.ch.get(q, { noAck: true });
    expect(back && back.properties.messageId).toBe('junk-2');
  });
});
