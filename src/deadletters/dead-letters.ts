/**
 * Inspecting and requeueing dead letters. RabbitMQ has no "peek", so listing
 * takes messages with basic.get (unacked) and gives them all back by closing
 * the channel; requeueing publishes the chosen ones (confirmed) to the queue
 * they died in, then acks them. Bounded by `limit`.
 */
import type { GetMessage } from 'amqplib';
import type { Config } from '../core/config.js';
import { IngestError } from '../core/errors.js';
import type { AmqpConnection } from '../adapters/rabbitmq/connection.js';
import type { ConfirmPublisher } from '../adapters/rabbitmq/confirm-publisher.js';
import { HEADERS } from '../core/message.js';
import { ALERT_HEADERS } from '../alerts/alert-topology.js';
import { DEAD_HEADERS, deadQueueName, type DeadKind } from './dead-letter-queues.js';

export interface DeadLetter {
  /** 1-based position in the dead-letter queue at the time of listing. */
  index: number;
  kind: DeadKind;
  messageId: string | null;
  reason: string;
  fromQueue: string;
  deadAt: string | null;
  /** readings: gateway; alerts: endpoint. */
  source: string | null;
  attempt: number | null;
  bytes: number;
  headers: Record<string, unknown>;
  body: string;
}

function str(x: unknown): string | null {
  if (typeof x === 'string') return x;
  if (Buffer.isBuffer(x)) return x.toString();
  if (typeof x === 'number') return String(x);
  return null;
}

function describe(kind: DeadKind, index: number, m: GetMessage): DeadLetter {
  const h = (m.properties.headers ?? {}) as Record<string, unknown>;
  return {
    index,
    kind,
    messageId: str(m.properties.messageId),
    reason: str(h[DEAD_HEADERS.reason]) ?? '(no reason recorded)',
    fromQueue: str(h[DEAD_HEADERS.queue]) ?? '',
    deadAt: str(h[DEAD_HEADERS.at]),
    source: kind === 'readings' ? str(h[HEADERS.sourceKey]) : str(h[ALERT_HEADERS.endpoint]),
    attempt: kind === 'alerts' ? Number(h[ALERT_HEADERS.attempt] ?? 0) || null : null,
    bytes: m.content.length,
    headers: h,
    body: m.content.toString('utf8'),
  };
}

async function take(
  conn: AmqpConnection,
  queue: string,
  limit: number,
  fn: (msgs: GetMessage[], ch: import('amqplib').Channel) => Promise<void>,
): Promise<void> {
  const ch = await conn.createChannel();
  try {
    try {
      await ch.checkQueue(queue);
    } catch (err) {
      if ((err as { code?: number }).code === 404) return;
      throw err;
    }
    const msgs: GetMessage[] = [];
    while (msgs.length < limit) {
      const m = await ch.get(queue, { noAck: false });
      if (!m) break;
      msgs.push(m);
    }
    await fn(msgs, ch);
  } finally {
    // Everything not acked goes back to the dead-letter queue.
    await ch.close().catch(() => undefined);
  }
}

export function createDeadLetters(deps: {
  conn: AmqpConnection;
  publisher: ConfirmPublisher;
  config: Pick<Config, 'queuePrefix' | 'publishTimeout'>;
}) {
  const kinds = (k: DeadKind | 'all'): DeadKind[] => (k === 'all' ? ['readings', 'alerts'] : [k]);

  async function list(kind: DeadKind | 'all', limit: number): Promise<DeadLetter[]> {
    const out: DeadLetter[] = [];
    for (const k of kinds(kind)) {
      await take(deps.conn, deadQueueName(deps.config, k), limit, async (msgs) => {
        msgs.forEach((m, i) => out.push(describe(k, i + 1, m)));
      });
    }
    return out;
  }

  return {
    list,
    async show(kind: DeadKind | 'all', id: string, limit: number): Promise<DeadLetter> {
      const all = await list(kind, limit);
      const found =
        all.find((d) => d.messageId === id) ??
        (/^\d+$/.test(id) && kind !== 'all' ? all.find((d) => d.index === Number(id)) : undefined);
      if (!found)
        throw new IngestError(
          'NOT_FOUND',
          `no dead letter "${id}" (ingest deadletters list shows ids)`,
        );
      return found;
    },
    /** Requeue the dead letters whose id is listed (all of them when ids is empty and all is set). */
    async requeue(
      kind: DeadKind | 'all',
      ids: readonly string[],
      opts: { all: boolean; limit: number },
    ): Promise<DeadLetter[]> {
      if (ids.length === 0 && !opts.all)
        throw new IngestError('VALIDATION', 'name the dead letters to requeue, or pass --all');
      const wanted = new Set(ids);
      const done: DeadLetter[] = [];
      for (const k of kinds(kind)) {
        await take(deps.conn, deadQueueName(deps.config, k), opts.limit, async (msgs, ch) => {
          for (const [i, m] of msgs.entries()) {
            const d = describe(k, i + 1, m);
            const hit =
              opts.all ||
              (d.messageId !== null && wanted.has(d.messageId)) ||
              (kind !== 'all' && wanted.has(String(d.index)));
            if (!hit || !d.fromQueue) continue;
            const headers: Record<string, unknown> = { ...d.headers };
            for (const h of Object.values(DEAD_HEADERS)) delete headers[h];
            headers['x-requeued-at'] = new Date().toISOString();
            if (k === 'alerts') headers[ALERT_HEADERS.attempt] = 1;
            await deps.publisher.publish(
              {
                routingKey: d.fromQueue,
                body: m.content,
                options: {
                  persistent: true,
                  contentType: m.properties.contentType as string | undefined,
                  type: m.properties.type as string | undefined,
                  messageId: m.properties.messageId as string | undefined,
                  headers,
                },
              },
              deps.config.publishTimeout,
            );
            ch.ack(m);
            done.push(d);
          }
        });
      }
      return done;
    },
  };
}
