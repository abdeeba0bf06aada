/**
 * The raw ceiling of the entry path: the same messages the frontend would
 * publish, sent straight to RabbitMQ with confirms from this one process, with
 * the same concurrency. The frontend's figures are reported against it.
 */
import { performance } from 'node:perf_hooks';
import { createAmqpConnection } from '../adapters/rabbitmq/connection.js';
import { createConfirmPublisher } from '../adapters/rabbitmq/confirm-publisher.js';
import { readingsMessageOptions } from '../core/message.js';
import type { Logger } from '../core/logger.js';
import type { BodyTemplate } from './readings-generator.js';
import { summarize, type LatencySummary } from './stats.js';

export interface RawPublishResult {
  messages: number;
  readingsPerSecond: number;
  messagesPerSecond: number;
  latency: LatencySummary;
  seconds: number;
}

export async function measureRawPublish(opts: {
  amqpUrl: string;
  queue: string;
  template: BodyTemplate;
  concurrency: number;
  durationMs: number;
  /** Hard cap on messages, so a fast broker cannot fill the disk. */
  maxMessages: number;
  firstSeq: number;
  logger: Logger;
  /** Aborted: stop sending (what was sent is still counted). */
  signal?: AbortSignal | undefined;
}): Promise<RawPublishResult> {
  const conn = createAmqpConnection({
    url: opts.amqpUrl,
    logger: opts.logger,
    name: 'ingest-loadtest-raw',
  });
  await conn.ready();
  const publisher = createConfirmPublisher(conn, { logger: opts.logger, channels: 4 });
  const latencies: number[] = [];
  let seq = opts.firstSeq;
  let sent = 0;
  const started = performance.now();
  const deadline = started + opts.durationMs;
  try {
    await Promise.all(
      Array.from({ length: opts.concurrency }, async () => {
        while (performance.now() < deadline && sent < opts.maxMessages && !opts.signal?.aborted) {
          sent += 1;
          const body = Buffer.from(opts.template.body(seq++));
          const t0 = performance.now();
          await publisher.publish(
            {
              routingKey: opts.queue,
              body,
              options: readingsMessageOptions(body, {
                sourceKey: 'raw',
                account: 'raw',
                receivedAt: Date.now(),
                readingCount: opts.template.readings,
                valueCount: opts.template.values,
              }),
            },
            10_000,
          );
          latencies.push(performance.now() - t0);
        }
      }),
    );
  } finally {
    await publisher.close();
    await conn.close();
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    messages: latencies.length,
    seconds,
    messagesPerSecond: latencies.length / seconds,
    readingsPerSecond: (latencies.length * opts.template.readings) / seconds,
    latency: summarize(latencies),
  };
}
