/**
 * What the maintainer needs from the outside, named by what it does, with the
 * adapters that serve them from PostgreSQL, RabbitMQ and Redis.
 */
import type { Channel } from 'amqplib';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { AmqpConnection } from '../adapters/rabbitmq/connection.js';
import { assertAccountQueue, type QueueType } from '../adapters/rabbitmq/topology.js';
import type { Config } from '../core/config.js';
import { writeHeartbeat } from './heartbeat.js';

export interface AccountSource {
  /** Ids of accounts that are active (an inactive or removed account's queue is deleted). */
  listActive(): Promise<string[]>;
  /**
   * Accounts gone (removed, deactivated, renamed) since the maintainer last dealt with them
   * (migration 007), and the store's time of the listing: `forgetGone` leaves an id that
   * went again after it.
   */
  listGone(): Promise<{ ids: string[]; at: string }>;
  forgetGone(ids: readonly string[], listedAt: string): Promise<void>;
}

export interface QueueBroker {
  assertQueue(name: string): Promise<void>;
  /** Ready messages and consumers, or undefined when the queue does not exist. */
  depth(name: string): Promise<{ ready: number; consumers: number } | undefined>;
  /** Delete a queue (gone already is fine); returns the messages it still held. */
  deleteQueue(name: string): Promise<number>;
  close(): Promise<void>;
}

export interface HeartbeatWriter {
  write(): Promise<void>;
}

export interface LedgerPruner {
  /** Forget consumed message ids stored more than `olderThanMs` ago; returns how many. */
  prune(olderThanMs: number): Promise<number>;
}

const PRUNE_BATCH = 10_000;
const PRUNE_BATCHES_PER_PASS = 10;

/** Deletes in batches (short locks, bounded work per pass); the rest goes next pass. */
export function createLedgerPruner(pool: pg.Pool): LedgerPruner {
  return {
    async prune(olderThanMs) {
      let total = 0;
      for (let i = 0; i < PRUNE_BATCHES_PER_PASS; i++) {
        const r = await pool.query(
          `DELETE FROM consumed_messages WHERE message_id IN (
             SELECT message_id FROM consumed_messages
              WHERE stored_at < now() - $1 * interval '1 millisecond'
              LIMIT $2)`,
          [olderThanMs, PRUNE_BATCH],
        );
        total += r.rowCount ?? 0;
        if ((r.rowCount ?? 0) < PRUNE_BATCH) break;
      }
      return total;
    },
  };
}

export function createAccountSource(pool: pg.Pool): AccountSource {
  return {
    async listActive() {
      const r = await pool.query<{ id: string }>(
        'SELECT id FROM accounts WHERE active ORDER BY id',
      );
      return r.rows.map((x) => x.id);
    },
    async listGone() {
      const r = await pool.query<{ id: string | null; at: string }>(
        `SELECT g.id, now()::text AS at FROM (SELECT now()) n
           LEFT JOIN gone_accounts g ON true ORDER BY g.id`,
      );
      return { ids: r.rows.flatMap((x) => (x.id === null ? [] : [x.id])), at: r.rows[0]!.at };
    },
    async forgetGone(ids, listedAt) {
      if (!ids.length) return;
      await pool.query(
        'DELETE FROM gone_accounts WHERE id = ANY($1) AND gone_at <= $2::timestamptz',
        [ids, listedAt],
      );
    },
  };
}

function amqpCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/** One channel, re-opened after the broker closes it (a 404 or 406 closes the channel). */
export function createQueueBroker(conn: AmqpConnection, queueType: QueueType): QueueBroker {
  let ch: Channel | undefined;
  async function channel(): Promise<Channel> {
    if (ch) return ch;
    const c = await conn.createChannel();
    c.on('close', () => {
      if (ch === c) ch = undefined;
    });
    ch = c;
    return c;
  }
  function drop(c: Channel): void {
    if (ch === c) ch = undefined;
  }
  async function depth(name: string): Promise<{ ready: number; consumers: number } | undefined> {
    const c = await channel();
    try {
      const q = await c.checkQueue(name);
      return { ready: q.messageCount, consumers: q.consumerCount };
    } catch (err) {
      drop(c);
      if (amqpCode(err) === 404) return undefined;
      throw err;
    }
  }
  return {
    depth,
    async assertQueue(name) {
      const c = await channel();
      try {
        await assertAccountQueue(c, name, queueType);
      } catch (err) {
        drop(c);
        throw err;
      }
    },
    async deleteQueue(name) {
      const c = await channel();
      try {
        return (await c.deleteQueue(name)).messageCount;
      } catch (err) {
        drop(c);
        if (amqpCode(err) === 404) return 0;
        throw err;
      }
    },
    async close() {
      const c = ch;
      ch = undefined;
      if (c) await c.close().catch(() => undefined);
    },
  };
}

export function createHeartbeatWriter(
  redis: Redis,
  config: Pick<Config, 'redisPrefix' | 'heartbeatStale'>,
): HeartbeatWriter {
  return { write: () => writeHeartbeat(redis, config) };
}
