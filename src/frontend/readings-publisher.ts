/**
 * Publishes one accepted request as one persistent message (the bytes as
 * received, once validated), or as a few chunks when it holds more than
 * chunkReadings readings; resolves only when every message is confirmed.
 */
import type { Config } from '../core/config.js';
import { IngestError } from '../core/errors.js';
import { readingsMessageOptions } from '../core/message.js';
import type { Reading } from '../core/readings.js';
import type { ConfirmPublisher } from '../adapters/rabbitmq/confirm-publisher.js';
import type { AccountQueues } from './account-queues.js';

export interface AcceptedBatch {
  sourceKey: string;
  account: string;
  /** The request body as received (after gunzip), already validated. */
  raw: Buffer;
  readings: Reading[];
  valueCount: number;
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

function valuesOf(readings: readonly Reading[]): number {
  let n = 0;
  for (const r of readings) n += r.values.length;
  return n;
}

export function createReadingsPublisher(deps: {
  config: Pick<Config, 'chunkReadings' | 'publishTimeout'>;
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
      const n = batch.readings.length;
      const size = config.chunkReadings > 0 ? config.chunkReadings : n;
      const parts: Array<{ body: Buffer; readings: number; values: number; chunk?: string }> = [];
      if (n <= size) {
        parts.push({ body: batch.raw, readings: n, values: batch.valueCount });
      } else {
        const total = Math.ceil(n / size);
        for (let i = 0; i < total; i++) {
          const slice = batch.readings.slice(i * size, (i + 1) * size);
          parts.push({
            body: Buffer.from(JSON.stringify(slice)),
            readings: slice.length,
            values: valuesOf(slice),
            chunk: `${i + 1}/${total}`,
          });
        }
      }
      const messages = await Promise.all(
        parts.map(async (part) => {
          const options = readingsMessageOptions(part.body, {
            sourceKey: batch.sourceKey,
            account: batch.account,
            receivedAt: batch.receivedAt,
            readingCount: part.readings,
            valueCount: part.values,
            ...(part.chunk ? { chunk: part.chunk } : {}),
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
