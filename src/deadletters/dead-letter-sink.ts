/** Confirmed publishing of bad readings messages to `${prefix}readings.dead`. */
import type { Message } from 'amqplib';
import type { Config } from '../core/config.js';
import type { ConfirmPublisher } from '../adapters/rabbitmq/confirm-publisher.js';
import type { DeadLetterSink } from '../consumer/queue-drainer.js';
import { deadHeaders, deadQueueName } from './dead-letter-queues.js';

export function createDeadLetterSink(deps: {
  publisher: ConfirmPublisher;
  config: Pick<Config, 'queuePrefix' | 'publishTimeout'>;
}): DeadLetterSink {
  const queue = deadQueueName(deps.config, 'readings');
  return {
    async send(msg: Message, reason: string, fromQueue: string) {
      const p = msg.properties;
      await deps.publisher.publish(
        {
          routingKey: queue,
          body: msg.content,
          options: {
            persistent: true,
            contentType: p.contentType as string | undefined,
            type: p.type as string | undefined,
            messageId: p.messageId as string | undefined,
            timestamp: p.timestamp as number | undefined,
            headers: deadHeaders(p.headers, reason, fromQueue),
          },
        },
        deps.config.publishTimeout,
      );
    },
  };
}
