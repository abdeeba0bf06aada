/**
 * A flood as a backlog: messages published straight to one account's queue
 * (confirmed, the frontend's message contract, x-received-at = publish time),
 * many times faster than HTTP can deliver them, so the queue really piles up
 * and the other accounts' lag shows whether the per-account queues isolate them.
 */
import { createAmqpConnection } from '../adapters/rabbitmq/connection.js';
import { createConfirmPublisher } from '../adapters/rabbitmq/confirm-publisher.js';
import { readingsMessageOptions } from '../core/message.js';
import type { Logger } from '../core/logger.js';
import { emptyFeedResult, type FeedResult } from './pipeline-feeder.js';
import { makeBodyTemplate } from './readings-generator.js';

export async function publishBacklog(opts: {
  amqpUrl: string;
  queue: string;
  account: string;
  sourceKey: string;
  messages: number;
  readingsPerMessage: number;
  logger: Logger;
  signal: AbortSignal;
  /** Confirms awaited at once. */
  window?: number;
}): Promise<FeedResult> {
  const conn = createAmqpConnection({
    url: opts.amqpUrl,
    logger: opts.logger,
    name: 'loadtest-flood',
  });
  const template = makeBodyTemplate(opts.readingsPerMessage);
  const result = emptyFeedResult();
  try {
    await conn.ready();
    const publisher = createConfirmPublisher(conn, { channels: 4, logger: opts.logger });
    try {
      let next = 0;
      await Promise.all(
        Array.from({ length: opts.window ?? 256 }, async () => {
          while (!opts.signal.aborted) {
            const i = next++;
            if (i >= opts.messages) return;
            // Distinct from the HTTP feeds' sequence numbers (those start at 0).
            const body = Buffer.from(template.body(1_000_000_000 + i));
            result.sent += 1;
            try {
              await publisher.publish(
                {
                  routingKey: opts.queue,
                  body,
                  options: readingsMessageOptions(body, {
                    sourceKey: opts.sourceKey,
                    account: opts.account,
                    receivedAt: Date.now(),
                    readingCount: template.readings,
                    valueCount: template.values,
                  }),
                },
                10_000,
              );
              result.accepted += 1;
              result.acceptedReadings += template.readings;
              result.acceptedValues += template.values;
            } catch {
              result.rejected.publish = (result.rejected.publish ?? 0) + 1;
            }
            result.lastAt = Date.now();
          }
        }),
      );
    } finally {
      await publisher.close();
    }
  } finally {
    await conn.close();
  }
  return result;
}
