/**
 * A consumer with more workers than queues holding messages: the idle workers
 * park in long-polls at the dispatcher (2 s each), and the one draining a busy
 * queue must still give it back and lease it again at once. With the dispatcher
 * client's 64 sockets for 80 workers, every give-back waited for a parked
 * long-poll to end (0.5-1.3 s between the leases of a flooded queue).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';
import type { TestChannel } from '../../helpers/broker.js';
import { startConsumerTestBed, type ConsumerTestBed } from '../../helpers/consumer-accounts.js';
import { createLifecycle } from '../../../src/core/lifecycle.js';
import { silentLogger } from '../../../src/core/logger.js';
import type { Config } from '../../../src/core/config.js';
import { createMaintainerFromConfig } from '../../../src/maintainer/run.js';
import { dispatcherSockets, NEXT_WAIT_MS, runConsumer } from '../../../src/consumer/run.js';
import { publishReadings, reading } from './publish-helpers.js';

const logger = silentLogger();
const WORKERS = 80;
const MESSAGES = 30;
const BATCH = 5;
let env: TestEnv;
let config: Config;
let amqp: TestChannel;
let bed: ConsumerTestBed | undefined;

beforeAll(async () => {
  env = await createTestEnv();
  bed = await startConsumerTestBed(env, ['W1', 'W2', 'W3'], '10s', logger);
  ({ config, amqp } = bed);
});

afterAll(async () => {
  await bed?.close();
  await env?.cleanup();
});

async function rows(): Promise<number> {
  const r = await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM readings');
  return r.rows[0]!.n;
}

describe('a consumer with more workers than busy queues', () => {
  it('sizes its dispatcher sockets for a long-poll and a renewal per worker', () => {
    expect(dispatcherSockets(WORKERS)).toBeGreaterThan(2 * WORKERS);
    expect(dispatcherSockets(1)).toBe(64);
  });

  it('gives a busy queue back and leases it again at once while the others are parked', async () => {
    const lifecycle = createLifecycle(logger);
    // A live maintainer: its heartbeat makes the dispatcher honour long-polls.
    const maintainer = await createMaintainerFromConfig({ config, logger });
    lifecycle.defer('maintainer', () => maintainer.close());
    await maintainer.runOnce();
    try {
      const h = await runConsumer(
        { config, logger, lifecycle },
        { concurrency: WORKERS, batch: BATCH, once: false },
      );
      lifecycle.defer('consumer', () => h.loop.stop());
      // Every worker asks; none has work, so they park.
      await new Promise((r) => setTimeout(r, 500));
      for (let m = 0; m < MESSAGES; m++) {
        publishReadings(
          amqp.ch,
          env.queueName('W1'),
          'GW:W1',
          'W1',
          JSON.stringify([reading(`many-${m}`, '2015-04-21T23:15:00+00:00', [[402, m]])]),
          { valueCount: 1, readingCount: 1 },
        );
      }
      await amqp.ch.checkQueue(env.queueName('W1'));
      // The maintainer's count marks the queue; a parked worker's re-check takes it.
      await maintainer.runOnce();
      const t0 = Date.now();
      while ((await rows()) < MESSAGES && Date.now() - t0 < 20_000) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const took = Date.now() - t0;
      expect(await rows()).toBe(MESSAGES);
      // Six leases of five messages: each give-back and next lease goes out at once,
      // well inside one long-poll period (the old sockets made it ~5 s here).
      expect(took).toBeLessThan(NEXT_WAIT_MS);
    } finally {
      await lifecycle.close();
    }
  });
});
