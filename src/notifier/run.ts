/** The notifier's composition root, used by `ingest notify` (and `ingest up`). */
import { refuseOutdatedSchema } from '../adapters/postgres/migrate.js';
import { Counter } from 'prom-client';
import type { Config } from '../core/config.js';
import type { Lifecycle } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { createPgPool } from '../adapters/postgres/pool.js';
import { createAmqpConnection } from '../adapters/rabbitmq/connection.js';
import { createConfirmPublisher } from '../adapters/rabbitmq/confirm-publisher.js';
import { createMetricsRegistry } from '../http/metrics.js';
import { startMetricsServer } from '../consumer/consumer-metrics.js';
import { createNotifier, type Notifier } from './notifier.js';

export async function runNotifier(
  ctx: { config: Config; logger: Logger; lifecycle: Lifecycle },
  opts: { concurrency: number; metricsPort?: number },
): Promise<{ notifier: Notifier; metricsUrl: string | undefined }> {
  const { config, logger, lifecycle } = ctx;
  const registry = createMetricsRegistry('notifier');
  const outcomes = new Counter({
    name: 'ingest_notifier_deliveries_total',
    help: 'notification delivery attempts by outcome (delivered, retry, dead)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const pool = createPgPool(config.pgUrl, {
    max: opts.concurrency + 1,
    application: 'ingest-notify',
  });
  lifecycle.defer('postgres pool', () => pool.end());
  await refuseOutdatedSchema(pool);
  const conn = createAmqpConnection({ url: config.amqpUrl, logger, name: 'ingest-notify' });
  lifecycle.defer('rabbitmq connection', () => conn.close());
  await conn.ready();
  const publisher = createConfirmPublisher(conn, { channels: 2, logger });
  lifecycle.defer('publisher', () => publisher.close());
  let metricsUrl: string | undefined;
  if (opts.metricsPort) {
    const srv = await startMetricsServer(registry, config.host, opts.metricsPort);
    metricsUrl = srv.url;
    lifecycle.defer('metrics server', () => srv.close());
  }
  const notifier = createNotifier(
    { conn, publisher, pool, config, logger, onOutcome: (o) => outcomes.inc({ outcome: o }) },
    { concurrency: opts.concurrency },
  );
  await notifier.start();
  lifecycle.defer('notifier', () => notifier.close());
  logger.info({ retries: config.notifyRetries, metricsUrl }, 'notifier started');
  return { notifier, metricsUrl };
}
