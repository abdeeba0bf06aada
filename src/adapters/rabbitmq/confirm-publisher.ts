/**
 * Publishing with publisher confirms, mandatory routing and a timeout, over a
 * small set of confirm channels on one connection. A publish resolves only when
 * the broker has confirmed it (the message is durable in its queue); a nack, a
 * return (no such queue), a lost channel or the timeout reject it with a 503-class
 * error, so nobody answers 2xx for data that is not safe.
 */
import type { ConfirmChannel, Message, Options } from 'amqplib';
import { IngestError, errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { AmqpConnection } from './connection.js';

const SEQ_HEADER = 'x-publish-seq';

export interface PublishRequest {
  /** Exchange; '' (the default exchange) routes by queue name. */
  exchange?: string;
  routingKey: string;
  body: Buffer;
  options?: Options.Publish;
}

export interface ConfirmPublisher {
  publish(req: PublishRequest, timeoutMs: number): Promise<void>;
  readonly inFlight: number;
  close(): Promise<void>;
}

interface Slot {
  ch: ConfirmChannel;
  returned: Set<number>;
  seq: number;
}

export function createConfirmPublisher(
  conn: AmqpConnection,
  opts: { channels?: number; logger: Logger },
): ConfirmPublisher {
  const size = Math.max(1, opts.channels ?? 4);
  const slots: Array<Promise<Slot> | undefined> = new Array(size).fill(undefined);
  let next = 0;
  let inFlight = 0;
  let closed = false;

  function openSlot(i: number): Promise<Slot> {
    const p = (async () => {
      const ch = await conn.createConfirmChannel();
      const slot: Slot = { ch, returned: new Set(), seq: 0 };
      ch.on('return', (msg: Message) => {
        const seq = (msg.properties.headers as Record<string, unknown> | undefined)?.[SEQ_HEADER];
        if (typeof seq === 'number') slot.returned.add(seq);
      });
      ch.on('close', () => {
        if (slots[i] === p) slots[i] = undefined;
      });
      return slot;
    })();
    slots[i] = p;
    p.catch(() => {
      if (slots[i] === p) slots[i] = undefined;
    });
    return p;
  }

  // A reconnect gives every slot a fresh channel on first use.
  conn.on('disconnect', () => slots.fill(undefined));

  async function publish(req: PublishRequest, timeoutMs: number): Promise<void> {
    if (closed) throw new IngestError('BROKER_UNAVAILABLE', 'publisher closed', { retryAfter: 1 });
    if (!conn.connected) {
      throw new IngestError('BROKER_UNAVAILABLE', 'RabbitMQ is not connected', { retryAfter: 2 });
    }
    const i = next;
    next = (next + 1) % size;
    let slot: Slot;
    try {
      slot = await (slots[i] ?? openSlot(i));
    } catch (err) {
      throw new IngestError('BROKER_UNAVAILABLE', `no channel: ${errorMessage(err)}`, {
        retryAfter: 2,
        cause: err,
      });
    }
    const seq = ++slot.seq;
    const options: Options.Publish = {
      ...req.options,
      mandatory: true,
      headers: {
        ...(req.options?.headers as Record<string, unknown> | undefined),
        [SEQ_HEADER]: seq,
      },
    };
    inFlight += 1;
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(
            new IngestError('PUBLISH_FAILED', `broker did not confirm within ${timeoutMs} ms`, {
              retryAfter: 1,
            }),
          );
        }, timeoutMs);
        try {
          slot.ch.publish(req.exchange ?? '', req.routingKey, req.body, options, (err: unknown) => {
            clearTimeout(timer);
            if (err) {
              // amqplib answers a nack with "message nacked", and every confirm still pending
              // when the channel or its connection goes with "channel closed".
              const nacked = errorMessage(err) === 'message nacked';
              reject(
                nacked
                  ? new IngestError('PUBLISH_FAILED', 'broker refused the message (nack)', {
                      retryAfter: 1,
                      cause: err,
                    })
                  : new IngestError(
                      'BROKER_UNAVAILABLE',
                      `the channel to RabbitMQ closed before the broker confirmed (${errorMessage(err)}): connection lost or channel error`,
                      { retryAfter: 2, cause: err },
                    ),
              );
            } else if (slot.returned.delete(seq)) {
              reject(
                new IngestError('PUBLISH_FAILED', `unroutable: no queue "${req.routingKey}"`, {
                  retryAfter: 5,
                }),
              );
            } else resolve();
          });
        } catch (err) {
          clearTimeout(timer);
          if (slots[i]) slots[i] = undefined;
          reject(
            new IngestError('BROKER_UNAVAILABLE', `publish failed: ${errorMessage(err)}`, {
              retryAfter: 2,
              cause: err,
            }),
          );
        }
      });
    } finally {
      inFlight -= 1;
    }
  }

  return {
    publish,
    get inFlight() {
      return inFlight;
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(
        slots.map(async (p) => {
          if (!p) return;
          try {
            const s = await p;
            // A channel whose connection just died never answers close: bound the wait.
            await Promise.race([s.ch.close(), new Promise((r) => setTimeout(r, 2_000).unref())]);
          } catch (err) {
            opts.logger.debug({ err: errorMessage(err) }, 'closing publish channel');
          }
        }),
      );
    },
  };
}
