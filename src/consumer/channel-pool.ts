/**
 * Idle RabbitMQ channels kept between leases: opening and closing a channel
 * per lease costs two round trips and broker work, and a consumer may take
 * hundreds of short leases a second when many accounts trickle.
 */
import type { Channel } from 'amqplib';
import type { AmqpConnection } from '../adapters/rabbitmq/connection.js';

export interface ChannelPool {
  acquire(): Promise<Channel>;
  /** Set the channel's prefetch for the next consumer on it (skipped when unchanged). */
  window(ch: Channel, prefetch: number): Promise<void>;
  /** Give a channel back; a closed or suspect one is dropped. */
  release(ch: Channel, healthy: boolean): void;
  close(): Promise<void>;
}

export function createChannelPool(conn: AmqpConnection, prefetch: number): ChannelPool {
  const idle: Channel[] = [];
  const closed = new WeakSet<Channel>();
  const windows = new WeakMap<Channel, number>();
  conn.on('disconnect', () => idle.splice(0));
  return {
    async acquire() {
      for (;;) {
        const ch = idle.pop();
        if (!ch) break;
        if (!closed.has(ch)) return ch;
      }
      const ch = await conn.createChannel();
      ch.on('close', () => closed.add(ch));
      await ch.prefetch(Math.max(1, prefetch));
      windows.set(ch, Math.max(1, prefetch));
      return ch;
    },
    async window(ch, n) {
      const want = Math.max(1, n);
      if (windows.get(ch) === want) return;
      await ch.prefetch(want);
      windows.set(ch, want);
    },
    release(ch, healthy) {
      if (healthy && !closed.has(ch)) idle.push(ch);
      else if (!closed.has(ch)) void ch.close().catch(() => undefined);
    },
    async close() {
      await Promise.all(idle.splice(0).map((ch) => ch.close().catch(() => undefined)));
    },
  };
}
