/**
 * Delivers alert notifications: consume `${prefix}alerts`, POST to the rule's
 * endpoint, record every attempt in PostgreSQL, and on failure either publish
 * the notification to the delay queue of its next attempt (a TTL queue that
 * dead-letters back into `alerts`) or, out of retries, to `alerts.dead`. The
 * original is acked only once its next home is confirmed.
 */
import type { Channel, ConsumeMessage } from 'amqplib';
import type pg from 'pg';
import type { Config } from '../core/config.js';
import { errorMessage } from '../core/errors.js';
import { sleep } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import type { AmqpConnection } from '../adapters/rabbitmq/connection.js';
import type { ConfirmPublisher } from '../adapters/rabbitmq/confirm-publisher.js';
import { recordDelivery, type DeliveryRecord } from '../alerts/alerts.repo.js';
import { createEndpointCache } from '../alerts/endpoint-cache.js';
import {
  ALERT_HEADERS,
  alertsQueueName,
  assertAlertTopology,
  assertRetryQueue,
  retryDelayMs,
  retryQueueName,
} from '../alerts/alert-topology.js';
import type { AlertNotification } from '../alerts/rule-evaluator.js';
import { deadHeaders, deadQueueName } from '../deadletters/dead-letter-queues.js';
import { postNotification, type DeliveryOutcome } from './http-delivery.js';

export type DeliveryEvent = 'delivered' | 'retry' | 'dead';

export interface NotifierDeps {
  conn: AmqpConnection;
  publisher: ConfirmPublisher;
  pool: pg.Pool;
  config: Pick<
    Config,
    | 'queuePrefix'
    | 'queueType'
    | 'publishTimeout'
    | 'notifyRetries'
    | 'notifyTimeout'
    | 'notifyRetryDelay'
  >;
  logger: Logger;
  onOutcome?(e: DeliveryEvent): void;
}

export interface Notifier {
  start(): Promise<void>;
  /** Stop taking notifications and wait for the ones in flight. Idempotent. */
  close(): Promise<void>;
}

export function createNotifier(deps: NotifierDeps, opts: { concurrency: number }): Notifier {
  const { config, logger } = deps;
  const queue = alertsQueueName(config);
  const retryQueues = new Set<string>();
  const endpoints = createEndpointCache({ pool: deps.pool });
  const inFlight = new Set<Promise<void>>();
  let channel: Channel | undefined;
  let consumerTag: string | undefined;
  let removeSetup: (() => void) | undefined;
  let closing: Promise<void> | undefined;

  async function republish(
    msg: ConsumeMessage,
    routingKey: string,
    headers: Record<string, unknown>,
  ): Promise<void> {
    await deps.publisher.publish(
      {
        routingKey,
        body: msg.content,
        options: {
          persistent: true,
          contentType: 'application/json',
          type: 'alert',
          messageId: msg.properties.messageId as string | undefined,
          headers,
        },
      },
      config.publishTimeout,
    );
  }

  /** One row in alert_deliveries per attempt (an ok outcome carries no error). */
  function recordAttempt(
    n: AlertNotification,
    attempt: number,
    outcome: DeliveryRecord['outcome'],
    result: Pick<DeliveryOutcome, 'status' | 'error'> & { durationMs: number | null },
  ): Promise<void> {
    return recordDelivery(deps.pool, {
      idempotencyKey: n.idempotencyKey,
      endpoint: n.endpoint,
      attempt,
      outcome,
      httpStatus: result.status,
      error: result.error,
      durationMs: result.durationMs,
    });
  }

  async function toDead(msg: ConsumeMessage, reason: string, n?: AlertNotification, attempt = 0) {
    await republish(
      msg,
      deadQueueName(config, 'alerts'),
      deadHeaders(msg.properties.headers, reason, queue),
    );
    if (n) {
      await recordAttempt(n, attempt, 'dead', { status: null, error: reason, durationMs: null });
    }
    logger.warn({ key: n?.idempotencyKey, reason }, 'notification dead-lettered');
    deps.onOutcome?.('dead');
  }

  async function handle(ch: Channel, msg: ConsumeMessage): Promise<void> {
    let n: AlertNotification;
    try {
      n = JSON.parse(msg.content.toString('utf8')) as AlertNotification;
      if (typeof n.idempotencyKey !== 'string' || typeof n.endpoint !== 'string')
        throw new Error('not a notification (idempotencyKey, endpoint missing)');
    } catch (err) {
      await toDead(msg, `unreadable notification: ${errorMessage(err)}`);
      ch.ack(msg);
      return;
    }
    const attempt = Math.max(1, Number(msg.properties.headers?.[ALERT_HEADERS.attempt] ?? 1) || 1);
    const endpoint = await endpoints.endpoint(n.endpoint);
    if (!endpoint) {
      await toDead(msg, `endpoint "${n.endpoint}" does not exist`, n, attempt);
      ch.ack(msg);
      return;
    }
    const out = await postNotification({
      url: endpoint.url,
      secret: endpoint.secret,
      idempotencyKey: n.idempotencyKey,
      attempt,
      body: msg.content.toString('utf8'),
      timeoutMs: config.notifyTimeout,
    });
    if (out.ok) {
      await recordAttempt(n, attempt, 'delivered', out);
      ch.ack(msg);
      deps.onOutcome?.('delivered');
      return;
    }
    if (attempt >= config.notifyRetries) {
      await recordAttempt(n, attempt, 'failed', out);
      await toDead(msg, `${attempt} attempts failed; last: ${out.error ?? 'unknown'}`, n, attempt);
      ch.ack(msg);
      return;
    }
    const delay = retryDelayMs(config.notifyRetryDelay, attempt);
    const retryQueue = await ensureRetryQueue(delay);
    await republish(msg, retryQueue, {
      ...(msg.properties.headers ?? {}),
      [ALERT_HEADERS.attempt]: attempt + 1,
    });
    await recordAttempt(n, attempt, 'failed', out);
    ch.ack(msg);
    logger.info(
      { key: n.idempotencyKey, attempt, retryInMs: delay, err: out.error },
      'delivery failed; retry scheduled',
    );
    deps.onOutcome?.('retry');
  }

  async function ensureRetryQueue(delay: number): Promise<string> {
    const name = retryQueueName(config, delay);
    if (!retryQueues.has(name)) {
      const ch = await deps.conn.createChannel();
      try {
        await assertRetryQueue(ch, config, delay);
      } finally {
        await ch.close().catch(() => undefined);
      }
      retryQueues.add(name);
    }
    return name;
  }

  return {
    async start() {
      removeSetup = await deps.conn.addSetup(async (model) => {
        const ch = await model.createChannel();
        ch.on('error', (err: Error) =>
          logger.debug({ err: errorMessage(err) }, 'notifier channel'),
        );
        await assertAlertTopology(ch, config);
        await ch.prefetch(Math.max(1, opts.concurrency));
        retryQueues.clear();
        const ok = await ch.consume(queue, (msg) => {
          if (!msg) return;
          const p = handle(ch, msg).catch(async (err: unknown) => {
            // PostgreSQL or the broker away: give it back after a pause, never drop it.
            logger.warn({ err: errorMessage(err) }, 'notification handling failed; requeueing');
            await sleep(1_000);
            try {
              ch.nack(msg, false, true);
            } catch {
              // Channel gone: the broker requeues it anyway.
            }
          });
          inFlight.add(p);
          void p.finally(() => inFlight.delete(p));
        });
        channel = ch;
        consumerTag = ok.consumerTag;
      });
    },
    close() {
      closing ??= (async () => {
        removeSetup?.();
        if (channel && consumerTag) await channel.cancel(consumerTag).catch(() => undefined);
        await Promise.allSettled([...inFlight]);
        await channel?.close().catch(() => undefined);
      })();
      return closing;
    },
  };
}
