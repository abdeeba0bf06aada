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
import { openTestChannel, type TestChannel } from './broker.js';
import { startDispatcherServer, type DispatcherServer } from '../../src/dispatcher/server.js';

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

/** A real dispatcher for consumer tests, and a channel to publish with. */
export interface ConsumerTestBed {
  /** The test's settings with the dispatcher's URL. */
  config: Config;
  dispatcher: DispatcherServer;
  amqp: TestChannel;
  close(): Promise<void>;
}

/**
 * The accounts provisioned (see above), a dispatcher on a free port with this lease
 * timeout, the consumer's settings pointing at it, and an AMQP channel.
 */
export async function startConsumerTestBed(
  env: TestEnv,
  accounts: string[],
  leaseTimeout: string,
  logger: Logger = silentLogger(),
): Promise<ConsumerTestBed> {
  const base = env.with({ dispatcherPort: 0, leaseTimeout });
  await provisionConsumerAccounts(env, accounts, base, logger);
  const dispatcher = await startDispatcherServer({ config: base, logger, cacheMs: 100 });
  const config = env.with({ dispatcherPort: 0, leaseTimeout, dispatcherUrl: dispatcher.url });
  const amqp = await openTestChannel(config, logger);
  return {
    config,
    dispatcher,
    amqp,
    async close() {
      await amqp.close();
      await dispatcher.close();
    },
  };
}
