/**
 * Publishes one accepted request as one persistent message (the bytes as
 * received, once validated), or as a few chunks when it holds more than
 * chunkReadings readings; resolves only when every message is confirmed.
 */
import type { Config } from '../core/config.js';
import { IngestError } from '../core/errors.js';
import { readingsMessageOptions } from '../core/message.js';
import type { BodyChunk } from '../core/readings-body.js';
import type { ConfirmPublisher } from '../adapters/rabbitmq/confirm-publisher.js';
import type { AccountQueues } from './account-queues.js';

export interface AcceptedBatch {
  sourceKey: string;
  account: string;
  /** The validated request body, as the messages to publish (one, or chunks). */
  chunks: BodyChunk[];
  receivedAt: number;
}

export interface PublishedMessage {
  messageId: string;
  readings: number;
  bytes: number;
}

export interface ReadingsPublisher {
  publish(batch: AcceptedBatch): Promise<{ queue: string; messages: PublishedMessage[] }>;
}

export function createReadingsPublisher(deps: {
  config: Pick<Config, 'publishTimeout'>;
  publisher: ConfirmPublisher;
  queues: AccountQueues;
  /** Confirm latency of each message, seconds; and failures by reason. */
  observeConfirm?: (seconds: number) => void;
  onFailure?: (code: string) => void;
}): ReadingsPublisher {
  const { config, publisher, queues } = deps;

  return {
    async publish(batch) {
      const queue = await queues.ensure(batch.account);
      const parts = batch.chunks;
      const total = parts.length;
      const messages = await Promise.all(
        parts.map(async (part, i) => {
          const options = readingsMessageOptions(part.body, {
            sourceKey: batch.sourceKey,
            account: batch.account,
            receivedAt: batch.receivedAt,
            readingCount: part.readings,
            valueCount: part.values,
            ...(total > 1 ? { chunk: `${i + 1}/${total}` } : {}),
          });
          const started = process.hrtime.bigint();
          try {
            await publisher.publish(
              {
                routingKey: queue,
                body: part.body,
                options: { ...options, timestamp: Math.floor(batch.receivedAt / 1000) },
              },
              config.publishTimeout,
            );
          } catch (err) {
            // The queue may be gone (unroutable) or the channel lost: re-check it next time.
            queues.forget(batch.account);
            deps.onFailure?.(err instanceof IngestError ? err.code : 'INTERNAL');
            throw err;
          }
          deps.observeConfirm?.(Number(process.hrtime.bigint() - started) / 1e9);
          return {
            messageId: options.messageId,
            readings: part.readings,
            bytes: part.body.length,
          };
        }),
      );
      return { queue, messages };
    },
  };
}
