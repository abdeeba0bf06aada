/**
 * A flood as a backlog: messages published straight to one account's queue
 * (confirmed, the frontend's message contract, x-received-at = publish time),
 * many times faster than HTTP can deliver them, so the queue really piles up
 * and the other accounts' lag shows whether the per-account queues isolate them.
 * And a watch on that queue's depth, to tell whether a flood piled up at all.
 */
import type { Channel } from 'amqplib';
import { createAmqpConnection } from '../adapters/rabbitmq/connection.js';
import { createConfirmPublisher } from '../adapters/rabbitmq/confirm-publisher.js';
import { readingsMessageOptions } from '../core/message.js';
import type { Logger } from '../core/logger.js';
import { sleep, timeLimit, within } from '../core/lifecycle.js';
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

/** What a backlog watch saw: the most ready messages the queue held at a sample. */
export interface BacklogPeak {
  /** Most ready messages at one sample (undefined: no sample succeeded). */
  peak: number | undefined;
  /** Samples taken, and those that failed (queue not there yet, broker slow). */
  samples: number;
  failed: number;
  intervalMs: number;
}

export interface BacklogWatch {
  /** Stop sampling (idempotent) and say what was seen. */
  stop(): Promise<BacklogPeak>;
}

/**
 * Samples one queue's depth with a passive checkQueue (ready messages) on its own
 * AMQP connection, one check at a time, every `intervalMs`, at most `maxSamples`
 * times, until stopped or `signal` aborts: how far the flood really piled up.
 */
export function watchBacklog(opts: {
  amqpUrl: string;
  queue: string;
  logger: Logger;
  signal: AbortSignal;
  intervalMs?: number;
  maxSamples?: number;
}): BacklogWatch {
  const intervalMs = opts.intervalMs ?? 250;
  const maxSamples = opts.maxSamples ?? 10_000;
  const conn = createAmqpConnection({
    url: opts.amqpUrl,
    logger: opts.logger,
    name: 'loadtest-backlog',
  });
  const seen: BacklogPeak = { peak: undefined, samples: 0, failed: 0, intervalMs };
  const stopping = new AbortController();
  const halt = (): void => stopping.abort();
  opts.signal.addEventListener('abort', halt, { once: true });
  let channel: Channel | undefined;

  const sampleOnce = async (): Promise<void> => {
    try {
      channel ??= await timeLimit(conn.createChannel(), 2_000);
      const q = await timeLimit(channel.checkQueue(opts.queue), 2_000);
      seen.samples += 1;
      seen.peak = Math.max(seen.peak ?? 0, q.messageCount);
    } catch {
      // A missing queue closes the channel (404); a slow one is given up: a new one next time.
      seen.failed += 1;
      const ch = channel;
      channel = undefined;
      void ch?.close().catch(() => undefined);
    }
  };

  const loop = (async (): Promise<void> => {
    try {
      await conn.ready(5_000);
    } catch {
      seen.failed += 1;
      return;
    }
    while (!stopping.signal.aborted && seen.samples + seen.failed < maxSamples) {
      await sampleOnce();
      await sleep(intervalMs, stopping.signal);
    }
  })();

  let result: Promise<BacklogPeak> | undefined;
  return {
    stop(): Promise<BacklogPeak> {
      result ??= (async () => {
        halt();
        opts.signal.removeEventListener('abort', halt);
        // A check in flight gives up within 2 s; never wait on a broker for longer than that.
        await within(loop, 3_000);
        await channel?.close().catch(() => undefined);
        await conn.close();
        return { ...seen };
      })();
      return result;
    },
  };
}
