/**
 * A test file's own way into RabbitMQ: the adapter connection with one plain
 * channel (to declare, publish raw messages and check queues), optionally a
 * confirm publisher on the same connection. close() undoes it in reverse order.
 */
import type { Channel } from 'amqplib';
import {
  createAmqpConnection,
  type AmqpConnection,
} from '../../src/adapters/rabbitmq/connection.js';
import {
  createConfirmPublisher,
  type ConfirmPublisher,
} from '../../src/adapters/rabbitmq/confirm-publisher.js';
import type { Config } from '../../src/core/config.js';
import { silentLogger, type Logger } from '../../src/core/logger.js';

export interface TestChannel {
  conn: AmqpConnection;
  ch: Channel;
  close(): Promise<void>;
}

export interface TestBroker extends TestChannel {
  publisher: ConfirmPublisher;
}

export async function openTestChannel(
  config: Pick<Config, 'amqpUrl'>,
  logger: Logger = silentLogger(),
): Promise<TestChannel> {
  const conn = createAmqpConnection({ url: config.amqpUrl, logger });
  await conn.ready();
  const ch = await conn.createChannel();
  return {
    conn,
    ch,
    async close() {
      await ch.close().catch(() => undefined);
      await conn.close();
    },
  };
}

export async function openTestBroker(
  config: Pick<Config, 'amqpUrl'>,
  logger: Logger = silentLogger(),
): Promise<TestBroker> {
  const { conn, ch } = await openTestChannel(config, logger);
  const publisher = createConfirmPublisher(conn, { logger });
  return {
    conn,
    ch,
    publisher,
    async close() {
      await ch.close().catch(() => undefined);
      await publisher.close();
      await conn.close();
    },
  };
}
