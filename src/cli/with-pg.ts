/**
 * A short-lived PostgreSQL pool for one command, loaded on demand (the driver
 * stays out of `--help`). A missing schema or database gets a hint instead of
 * a driver error.
 */
import type pg from 'pg';
import type { Config } from '../core/config.js';
import type { AmqpConnection } from '../adapters/rabbitmq/connection.js';
import type { Provisioning } from '../provisioning/provisioning.js';
import { missingSetupError } from '../adapters/postgres/pg-errors.js';
import type { Logger } from '../core/logger.js';

export async function withPgPool<T>(
  config: Pick<Config, 'pgUrl'>,
  application: string,
  fn: (pool: pg.Pool) => Promise<T>,
  /** Which tables, in the hint: 'alert ' gives "alert tables missing". */
  tables = '',
): Promise<T> {
  const { createPgPool } = await import('../adapters/postgres/pool.js');
  const pool = createPgPool(config.pgUrl, { max: 1, application });
  try {
    return await fn(pool);
  } catch (err) {
    throw missingSetupError(err, tables) ?? err;
  } finally {
    await pool.end();
  }
}

/** Provisioning on a short-lived pool; its modules load only when a subcommand runs. */
export async function withProvisioning<T>(
  config: Config,
  fn: (p: Provisioning) => Promise<T>,
  amqp?: AmqpConnection,
): Promise<T> {
  const { createProvisioning } = await import('../provisioning/provisioning.js');
  return withPgPool(config, 'ingest-provisioning', (pool) =>
    fn(createProvisioning({ pool, config, ...(amqp ? { amqp } : {}) })),
  );
}

/**
 * Provisioning with a RabbitMQ connection of its own (declaring account queues);
 * the connection logs only errors: a broker that is away is reported by the caller.
 */
export async function withProvisioningAndBroker<T>(
  config: Config,
  logger: Logger,
  fn: (p: Provisioning) => Promise<T>,
): Promise<T> {
  const { createAmqpConnection } = await import('../adapters/rabbitmq/connection.js');
  const amqp = createAmqpConnection({
    url: config.amqpUrl,
    logger: logger.child({}, { level: 'error' }),
  });
  try {
    return await withProvisioning(config, fn, amqp);
  } finally {
    await amqp.close();
  }
}
