import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAmqpConnection,
  type AmqpConnection,
} from '../../../src/adapters/rabbitmq/connection.js';
import { createConfirmPublisher } from '../../../src/adapters/rabbitmq/confirm-publisher.js';
import { assertAccountQueue, queueDepth } from '../../../src/adapters/rabbitmq/topology.js';
import { silentLogger } from '../../../src/core/logger.js';
import { isIngestError } from '../../../src/core/errors.js';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';

describe('confirm publisher (real RabbitMQ)', () => {
  let env: TestEnv;
  let conn: AmqpConnection;
  beforeAll(async () => {
    env = await createTestEnv();
    conn = createAmqpConnection({ url: env.config.amqpUrl, logger: silentLogger() });
    await conn.ready();
  });
  afterAll(async () => {
    await conn.close();
    await env.cleanup();
  });

  it('resolves only once the message is in the queue', async () => {
    const q = env.queueName('A1');
    const ch = await conn.createChannel();
    await assertAccountQueue(ch, q, 'classic');
    const pub = createConfirmPublisher(conn, { logger: silentLogger() });
    await Promise.all(
      [1, 2, 3].map((i) =>
        pub.publish(
          { routingKey: q, body: Buffer.from(`{"n":${i}}`), options: { persistent: true } },
          5000,
        ),
      ),
    );
    expect((await queueDepth(ch, q))?.messages).toBe(3);
    await ch.close();
    await pub.close();
  });

  it('rejects an unroutable message (no such queue) instead of confirming it', async () => {
    const pub = createConfirmPublisher(conn, { logger: silentLogger() });
    const err = await pub
      .publish({ routingKey: env.queueName('missing'), body: Buffer.from('{}') }, 5000)
      .catch((e: unknown) => e);
    expect(isIngestError(err, 'PUBLISH_FAILED')).toBe(true);
    await pub.close();
  });

  it('fails fast with BROKER_UNAVAILABLE when the broker is unreachable', async () => {
    const dead = createAmqpConnection({
      url: 'amqp://guest:guest@127.0.0.1:1',
      logger: silentLogger(),
    });
    const pub = createConfirmPublisher(dead, { logger: silentLogger() });
    const started = Date.now();
    const err = await pub
      .publish({ routingKey: 'x', body: Buffer.from('{}') }, 5000)
      .catch((e: unknown) => e);
    expect(isIngestError(err, 'BROKER_UNAVAILABLE')).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
    await pub.close();
    await dead.close();
  });
});
