/**
 * Drain one leased queue: consume with a prefetch window, group several
 * messages per transaction, store, commit, then ack. Bad messages go to the
 * dead-letter queue (confirmed) before they are acked; a message that makes
 * PostgreSQL refuse the batch is isolated by storing the batch one message at
 * a time. Anything not acked when we stop is requeued by the broker.
 */
import type { Channel, Message } from 'amqplib';
import type { AmqpConnection } from '../adapters/rabbitmq/connection.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { HEADERS } from '../core/message.js';
import type { ChannelPool } from './channel-pool.js';
import type { PrefetchWindow } from './prefetch-window.js';
import { decodeReadingsMessage } from './message-decoder.js';
import type { StoreMessage } from './readings-store.js';
import type { BatchWriter } from './batch-writer.js';

export interface DrainOptions {
  /** Most messages taken from the queue per lease. */
  batch: number;
  /** Unacked messages the broker may push ahead of us. */
  prefetch: number;
  /** Longest time one lease is worked before the queue is given back. */
  sliceMs: number;
  /** No delivery for this long with nothing outstanding: the queue is empty. */
  idleMs: number;
  /** Values per transaction (several messages are grouped up to this). */
  groupValues: number;
  /**
   * Messages fetched one by one (basic.get) before consuming: a queue that
   * holds no more than this is drained without registering a consumer.
   */
  getMax: number;
}

export const DEFAULT_DRAIN: DrainOptions = {
  batch: 500,
  prefetch: 64,
  sliceMs: 5_000,
  idleMs: 100,
  groupValues: 20_000,
  getMax: 4,
};

export interface DrainEvents {
  deadLettered?(e: { account: string; reason: string }): void;
}

export interface DeadLetterSink {
  /** Confirmed publish of a bad message to the dead-letter queue. */
  send(msg: Message, reason: string, fromQueue: string): Promise<void>;
}

export interface DrainDeps {
  conn: AmqpConnection;
  /** Reused channels; without it a channel per lease. */
  channels?: ChannelPool | undefined;
  /** Prefetch per queue from its message sizes; without it opts.prefetch. */
  window?: PrefetchWindow | undefined;
  writer: BatchWriter;
  deadLetters: DeadLetterSink;
  logger: Logger;
  events?: DrainEvents | undefined;
}

export interface DrainJob {
  account: string;
  queue: string;
  /** Aborted when the lease is lost or the process shuts down. */
  signal: AbortSignal;
}

export interface DrainResult {
  messages: number;
  values: number;
  /** The queue had nothing more to give. */
  empty: boolean;
}

interface Item {
  msg: Message;
  message: StoreMessage;
}

/** Errors caused by the data (retrying cannot help) rather than by the database being away. */
function isDataError(err: unknown): boolean {
  const code =
    typeof err === 'object' && err !== null && 'code' in err
      ? String((err as { code: unknown }).code)
      : '';
  return /^(22|23|54)/.test(code);
}

function valuesOf(msg: Message): number {
  const h = msg.properties.headers?.[HEADERS.valueCount] as unknown;
  const n = typeof h === 'number' ? h : Number(h);
  return Number.isFinite(n) && n > 0 ? n : Math.ceil(msg.content.length / 40);
}

/**
 * basic.get up to `opts.getMax` messages (never past the batch) into `into`, stopping
 * at an empty queue; returns how many messages the broker said were left behind.
 */
async function takeFew(
  ch: Channel,
  queue: string,
  opts: DrainOptions,
  into: Message[],
): Promise<number> {
  const most = Math.max(1, Math.min(opts.getMax, opts.batch));
  let remaining = 0;
  while (into.length < most) {
    const m = await ch.get(queue, { noAck: false });
    if (m === false) return 0;
    into.push(m);
    remaining = m.fields.messageCount;
    if (remaining === 0) break;
  }
  return remaining;
}

export async function drainQueue(
  deps: DrainDeps,
  opts: DrainOptions,
  job: DrainJob,
): Promise<DrainResult> {
  const log = deps.logger.child({ queue: job.queue });
  const ch: Channel = deps.channels
    ? await deps.channels.acquire()
    : await deps.conn.createChannel();
  let channelOpen = true;
  const onClose = (): void => {
    channelOpen = false;
  };
  ch.on('close', onClose);
  let healthy = false;
  const result: DrainResult = { messages: 0, values: 0, empty: false };
  let bytes = 0;
  try {
    // Probe with basic.get rather than checkQueue + consume: a queue holding a
    // few messages (the common case under many accounts) is drained in as many
    // round trips as it has messages, with no consumer to register and cancel.
    const taken: Message[] = [];
    let remaining: number;
    try {
      remaining = await takeFew(ch, job.queue, opts, taken);
    } catch (err) {
      if ((err as { code?: number }).code === 404) {
        log.warn('queue does not exist in RabbitMQ (is the maintainer running?)');
        result.empty = true;
        return result;
      }
      throw err;
    }
    if (taken.length === 0) {
      result.empty = true;
      healthy = true;
      return result;
    }
    // What the queue held when we took it: what we got plus what was left behind.
    const ready = taken.length + remaining;
    const buffer: Message[] = taken;
    let wake: (() => void) | undefined;
    let cancelledByBroker = false;
    const onAbort = (): void => wake?.();
    job.signal.addEventListener('abort', onAbort);
    // Everything left behind is consumed; when get took it all, no consumer at all.
    let consumerTag: string | undefined;
    if (remaining > 0 && taken.length < opts.batch) {
      const window = Math.max(
        1,
        Math.min(deps.window ? deps.window.for(job.account) : opts.prefetch, opts.batch),
      );
      if (deps.channels) await deps.channels.window(ch, window);
      else await ch.prefetch(window);
      ({ consumerTag } = await ch.consume(
        job.queue,
        (msg) => {
          if (msg === null) cancelledByBroker = true;
          else buffer.push(msg);
          wake?.();
        },
        { noAck: false },
      ));
    }
    const waitForDelivery = (ms: number): Promise<void> =>
      new Promise((resolve) => {
        const t = setTimeout(done, ms);
        function done(): void {
          clearTimeout(t);
          wake = undefined;
          resolve();
        }
        wake = done;
      });

    const deadline = Date.now() + opts.sliceMs;
    try {
      for (;;) {
        if (job.signal.aborted || cancelledByBroker || !channelOpen) break;
        if (result.messages >= opts.batch || Date.now() >= deadline) break;
        if (buffer.length === 0) {
          // Everything the queue held when we took it is done: give it back now rather
          // than idle-wait (the next lease picks up what arrived meanwhile).
          if (result.messages >= ready) {
            result.empty = true;
            break;
          }
          await waitForDelivery(opts.idleMs);
          if (buffer.length === 0 && !job.signal.aborted) {
            result.empty = true;
            break;
          }
          continue;
        }
        await processGroup(takeGroup(buffer));
      }
    } finally {
      job.signal.removeEventListener('abort', onAbort);
      if (channelOpen && consumerTag !== undefined)
        await ch.cancel(consumerTag).catch(() => undefined);
      // Delivered but not taken: back to the queue now (closing the channel would too).
      for (const m of buffer.splice(0)) {
        if (channelOpen) ch.nack(m, false, true);
      }
    }
    healthy = true;
    deps.window?.observe(job.account, result.messages, bytes);
    return result;
  } finally {
    ch.off('close', onClose);
    if (deps.channels) deps.channels.release(ch, healthy && channelOpen);
    else if (channelOpen) await ch.close().catch(() => undefined);
  }

  /** Take the next transaction's messages off `buffer`: within the batch and the group size. */
  function takeGroup(buffer: Message[]): Message[] {
    const room = opts.batch - result.messages;
    const group: Message[] = [];
    let values = 0;
    while (buffer.length > 0 && group.length < room && values < opts.groupValues) {
      const m = buffer.shift()!;
      group.push(m);
      values += valuesOf(m);
      bytes += m.content.length;
    }
    return group;
  }

  async function processGroup(group: Message[]): Promise<void> {
    const items: Item[] = [];
    for (const msg of group) {
      const decoded = decodeReadingsMessage(
        {
          content: msg.content,
          headers: msg.properties.headers,
          messageId: msg.properties.messageId as string | undefined,
          timestamp: msg.properties.timestamp as number | undefined,
        },
        job.account,
      );
      if (decoded.ok) items.push({ msg, message: decoded.message });
      else await deadLetter(msg, decoded.reason);
    }
    if (items.length === 0) return;
    try {
      await storeItems(items);
    } catch (err) {
      if (!isDataError(err)) throw err;
      log.warn({ err: errorMessage(err) }, 'batch refused by PostgreSQL; storing one by one');
      for (const item of items) {
        try {
          await storeItems([item]);
        } catch (err2) {
          if (!isDataError(err2)) throw err2;
          await deadLetter(item.msg, `PostgreSQL refused it: ${errorMessage(err2)}`);
        }
      }
    }
  }

  async function deadLetter(msg: Message, reason: string): Promise<void> {
    await deps.deadLetters.send(msg, reason, job.queue);
    if (channelOpen) ch.ack(msg);
    result.messages += 1;
    log.warn({ reason, messageId: msg.properties.messageId as unknown }, 'message dead-lettered');
    deps.events?.deadLettered?.({ account: job.account, reason });
  }

  async function storeItems(items: Item[]): Promise<void> {
    await deps.writer.write(items.map((i) => i.message));
    // Ack only after commit. If the channel died meanwhile the messages come back,
    // and the ledger (or the primary key) turns the replay into a no-op.
    // One frame for the group: every earlier delivery on this channel is already acked
    // (messages are handled strictly in delivery order).
    if (channelOpen) ch.ack(items[items.length - 1]!.msg, true);
    result.messages += items.length;
    result.values += items.reduce((n, i) => n + i.message.valueCount, 0);
  }
}
