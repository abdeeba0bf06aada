/**
 * Inspecting and requeueing dead letters. RabbitMQ has no "peek", so listing
 * takes messages with basic.get (unacked) and gives them all back by closing
 * the channel; requeueing publishes the chosen ones (confirmed) to the queue
 * they died in, then acks them. Bounded by `limit`.
 */
import type { Channel, GetMessage } from 'amqplib';
import type { Config } from '../core/config.js';
import { IngestError } from '../core/errors.js';
import type { AmqpConnection } from '../adapters/rabbitmq/connection.js';
import type { ConfirmPublisher } from '../adapters/rabbitmq/confirm-publisher.js';
import { HEADERS } from '../core/message.js';
import { ALERT_HEADERS } from '../alerts/alert-topology.js';
import { DEAD_HEADERS, deadQueueName, type DeadKind } from './dead-letter-queues.js';
import { matchDeadLetters } from './dead-letter-refs.js';

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

interface Taken {
  kind: DeadKind;
  ch: Channel;
  msgs: GetMessage[];
}

/**
 * Takes up to `limit` messages from each kind's dead-letter queue, all queues at
 * once, so a caller sees everything before it changes anything. Whatever `fn`
 * does not ack goes back when the channels close.
 */
async function takeAll(
  conn: AmqpConnection,
  queues: ReadonlyArray<{ kind: DeadKind; queue: string }>,
  limit: number,
  fn: (taken: Taken[]) => Promise<void>,
): Promise<void> {
  const channels: Channel[] = [];
  try {
    const taken: Taken[] = [];
    for (const { kind, queue } of queues) {
      const ch = await conn.createChannel();
      channels.push(ch);
      try {
        await ch.checkQueue(queue);
      } catch (err) {
        // A failed check closes the channel; a queue never declared has no dead letters.
        if ((err as { code?: number }).code === 404) continue;
        throw err;
      }
      const msgs: GetMessage[] = [];
      while (msgs.length < limit) {
        const m = await ch.get(queue, { noAck: false });
        if (!m) break;
        msgs.push(m);
      }
      taken.push({ kind, ch, msgs });
    }
    await fn(taken);
  } finally {
    for (const ch of channels.reverse()) await ch.close().catch(() => undefined);
  }
}

/** The held messages the names stand for; each must say where it goes back to. */
function named<T extends { letter: DeadLetter }>(
  kind: DeadKind | 'all',
  ids: readonly string[],
  held: T[],
): T[] {
  const letters = held.map((x) => x.letter);
  const hits = new Set(matchDeadLetters(kind, ids, letters));
  const chosen = held.filter((x) => hits.has(x.letter));
  const lost = chosen.find((x) => !x.letter.fromQueue)?.letter;
  if (lost)
    throw new IngestError(
      'VALIDATION',
      `dead letter "${lost.messageId ?? `#${lost.index}`}" does not say which queue it came from (no ${DEAD_HEADERS.queue} header)`,
    );
  return chosen;
}

export function createDeadLetters(deps: {
  conn: AmqpConnection;
  publisher: ConfirmPublisher;
  config: Pick<Config, 'queuePrefix' | 'publishTimeout'>;
}) {
  const queues = (k: DeadKind | 'all') =>
    (k === 'all' ? (['readings', 'alerts'] as const) : [k]).map((kind) => ({
      kind,
      queue: deadQueueName(deps.config, kind),
    }));
  const described = (taken: Taken[]) =>
    taken.flatMap(({ kind, ch, msgs }) =>
      msgs.map((m, i) => ({ letter: describe(kind, i + 1, m), m, ch })),
    );

  async function list(kind: DeadKind | 'all', limit: number): Promise<DeadLetter[]> {
    let out: DeadLetter[] = [];
    await takeAll(deps.conn, queues(kind), limit, async (taken) => {
      out = described(taken).map((x) => x.letter);
    });
    return out;
  }

  return {
    list,
    /** One dead letter by message id or (with one kind) position. */
    async show(kind: DeadKind | 'all', id: string, limit: number): Promise<DeadLetter> {
      return matchDeadLetters(kind, [id], await list(kind, limit))[0]!;
    },
    /**
     * Requeue the named dead letters (every one of `kind` with `all`). Every
     * name is checked before the first publish: an unknown one requeues nothing.
     */
    async requeue(
      kind: DeadKind | 'all',
      ids: readonly string[],
      opts: { all: boolean; limit: number },
    ): Promise<DeadLetter[]> {
      if (ids.length === 0 && !opts.all)
        throw new IngestError('VALIDATION', 'name the dead letters to requeue, or pass --all');
      const done: DeadLetter[] = [];
      await takeAll(deps.conn, queues(kind), opts.limit, async (taken) => {
        const held = described(taken);
        const chosen = opts.all ? held.filter((x) => x.letter.fromQueue) : named(kind, ids, held);
        for (const { letter: d, m, ch } of chosen) {
          const headers: Record<string, unknown> = { ...d.headers };
          for (const h of Object.values(DEAD_HEADERS)) delete headers[h];
          headers['x-requeued-at'] = new Date().toISOString();
          if (d.kind === 'alerts') headers[ALERT_HEADERS.attempt] = 1;
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
      return done;
    },
  };
}
