/**
 * The notification outbox. Notifications are inserted in the transaction that
 * stores their readings (the idempotency key is the primary key, so a replay
 * inserts nothing and publishes nothing), published with confirms after the
 * commit, then marked published. A crash between commit and publish leaves
 * rows unpublished; sweep() publishes them later (at least once; the notifier's
 * receiver dedupes by Idempotency-Key).
 */
import type pg from 'pg';
import type { Config } from '../core/config.js';
import { inTransaction } from '../adapters/postgres/pool.js';
import type { ConfirmPublisher } from '../adapters/rabbitmq/confirm-publisher.js';
import { ALERT_HEADERS, alertsQueueName } from './alert-topology.js';
import type { AlertNotification } from './rule-evaluator.js';

export interface AlertOutbox {
  /** Inside the readings transaction: the notifications that are new. */
  record(client: pg.PoolClient, list: readonly AlertNotification[]): Promise<AlertNotification[]>;
  /** After commit: publish (confirmed) and mark published. */
  publish(list: readonly AlertNotification[]): Promise<void>;
  /** Publish notifications left unpublished for longer than `olderThanMs`. Returns how many. */
  sweep(olderThanMs: number, limit?: number): Promise<number>;
}

export function createAlertOutbox(deps: {
  pool: pg.Pool;
  publisher: ConfirmPublisher;
  config: Pick<Config, 'queuePrefix' | 'publishTimeout'>;
}): AlertOutbox {
  const queue = alertsQueueName(deps.config);

  async function send(list: readonly AlertNotification[]): Promise<void> {
    await Promise.all(
      list.map((n) =>
        deps.publisher.publish(
          {
            routingKey: queue,
            body: Buffer.from(JSON.stringify(n)),
            options: {
              persistent: true,
              contentType: 'application/json',
              type: 'alert',
              messageId: n.idempotencyKey,
              headers: { [ALERT_HEADERS.attempt]: 1, [ALERT_HEADERS.endpoint]: n.endpoint },
            },
          },
          deps.config.publishTimeout,
        ),
      ),
    );
  }

  async function markPublished(db: Pick<pg.Pool, 'query'>, keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await db.query(
      'UPDATE alert_notifications SET published_at = now() WHERE idempotency_key = ANY($1)',
      [keys],
    );
  }

  return {
    async record(client, list) {
      if (list.length === 0) return [];
      const res = await client.query<{ idempotency_key: string }>(
        `INSERT INTO alert_notifications (idempotency_key, rule_id, endpoint, payload)
           SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::jsonb[])
           ON CONFLICT DO NOTHING RETURNING idempotency_key`,
        [
          list.map((n) => n.idempotencyKey),
          list.map((n) => n.ruleId),
          list.map((n) => n.endpoint),
          list.map((n) => JSON.stringify(n)),
        ],
      );
      const fresh = new Set(res.rows.map((r) => r.idempotency_key));
      return list.filter((n) => fresh.delete(n.idempotencyKey));
    },
    async publish(list) {
      if (list.length === 0) return;
      await send(list);
      await markPublished(
        deps.pool,
        list.map((n) => n.idempotencyKey),
      );
    },
    async sweep(olderThanMs, limit = 500) {
      return inTransaction(deps.pool, async (client) => {
        const res = await client.query<{ payload: AlertNotification }>(
          `SELECT payload FROM alert_notifications
            WHERE published_at IS NULL AND created_at < now() - make_interval(secs => $1)
            ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [olderThanMs / 1000, limit],
        );
        const list = res.rows.map((r) => r.payload);
        await send(list);
        await markPublished(
          client,
          list.map((n) => n.idempotencyKey),
        );
        return list.length;
      });
    },
  };
}
