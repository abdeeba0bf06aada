/** Dispatcher away: back off, one log line per state change, a metric; then carry on. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';
import { provisionConsumerAccounts } from '../../helpers/consumer-accounts.js';
import { openTestChannel } from '../../helpers/broker.js';
import { createLifecycle } from '../../../src/core/lifecycle.js';
import { silentLogger } from '../../../src/core/logger.js';
import { startDispatcherServer, type DispatcherServer } from '../../../src/dispatcher/server.js';
import { runConsumer } from '../../../src/consumer/run.js';
import { freePort } from '../../../src/loadtest/ingest-process.js';
import { publishReadings, reading } from './publish-helpers.js';
import { captureLogs } from '../../helpers/log-capture.js';

let env: TestEnv;
let dispatcher: DispatcherServer | undefined;

beforeAll(async () => {
  env = await createTestEnv();
  await provisionConsumerAccounts(env, ['O1']);
});

afterAll(async () => {
  await dispatcher?.close();
  await env?.cleanup();
});

describe('dispatcher outage', () => {
  it('logs once, reports it in metrics, recovers when the dispatcher comes up', async () => {
    const port = await freePort();
    const config = env.with({
      dispatcherUrl: `http://127.0.0.1:${port}`,
      dispatcherPort: port,
      leaseTimeout: '10s',
    });
    const { logger, lines } = captureLogs('info');
    const lifecycle = createLifecycle(silentLogger());
    try {
      const h = await runConsumer(
        { config, logger, lifecycle },
        { concurrency: 2, batch: 10, once: false },
      );
      await new Promise((r) => setTimeout(r, 2_500));
      const down = lines.filter((l) => l.msg.startsWith('dispatcher unreachable'));
      expect(down).toHaveLength(1);
      expect(
        await h.metrics.registry.getSingleMetricAsString('ingest_consumer_dispatcher_state'),
      ).toMatch(/state="unreachable"[^}]*} 1/);

      const amqp = await openTestChannel(config);
      publishReadings(
        amqp.ch,
        env.queueName('O1'),
        'GW:O',
        'O1',
        JSON.stringify([reading('1', '2015-04-21T00:00:00Z', [[1, 1]])]),
      );
      await amqp.close();
      dispatcher = await startDispatcherServer({ config, logger: silentLogger(), cacheMs: 100 });
      const end = Date.now() + 15_000;
      let n = 0;
      while (Date.now() < end) {
        n = (await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM readings'))
          .rows[0]!.n;
        if (n > 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(n).toBe(1);
      expect(lines.filter((l) => l.msg === 'dispatcher reachable again')).toHaveLength(1);
      expect(lines.filter((l) => l.msg.startsWith('dispatcher unreachable'))).toHaveLength(1);
    } finally {
      await lifecycle.close();
    }
  }, 40_000);
});
