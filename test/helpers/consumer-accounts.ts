/**
 * The start of every consumer test against a real dispatcher: the accounts
 * exist, one maintainer pass has declared their queues and registered them, and
 * the queues the consumer declares (dead letters, alerts) are dropped at cleanup.
 */
import type { Config } from '../../src/core/config.js';
import { silentLogger, type Logger } from '../../src/core/logger.js';
import { createMaintainerFromConfig } from '../../src/maintainer/run.js';
import { deadQueueName } from '../../src/deadletters/dead-letter-queues.js';
import { alertsQueueName } from '../../src/alerts/alert-topology.js';
import type { TestEnv } from './env.js';

export async function provisionConsumerAccounts(
  env: TestEnv,
  accounts: string[],
  config: Config = env.config,
  logger: Logger = silentLogger(),
): Promise<void> {
  for (const id of accounts) {
    await env.pool.query('INSERT INTO accounts (id) VALUES ($1)', [id]);
    env.queueName(id);
  }
  env.queues.add(deadQueueName(env.config, 'readings'));
  env.queues.add(alertsQueueName(env.config));
  const maintainer = await createMaintainerFromConfig({ config, logger });
  await maintainer.runOnce();
  await maintainer.close();
}
