/**
 * A SIGKILLed consumer loses nothing and duplicates nothing: the built
 * `ingest consume` is killed with -9 in the middle of a drain, another one
 * finishes, and the rows equal the distinct values published. Needs
 * `npm run build` (npm test runs it first).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';
import { openTestChannel, type TestChannel } from '../../helpers/broker.js';
import { provisionConsumerAccounts } from '../../helpers/consumer-accounts.js';
import { silentLogger } from '../../../src/core/logger.js';
import { startDispatcherServer, type DispatcherServer } from '../../../src/dispatcher/server.js';
import { configToEnv } from '../../../src/loadtest/sandbox.js';
import { runIngest, startIngest } from '../../../src/loadtest/ingest-process.js';
import { publishReadings, reading } from './publish-helpers.js';

const logger = silentLogger();
const built = existsSync(fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url)));
let env: TestEnv;
let dispatcher: DispatcherServer;
let amqp: TestChannel;

beforeAll(async () => {
  env = await createTestEnv();
  const cfg = env.with({ dispatcherPort: 0, leaseTimeout: '2s' });
  await provisionConsumerAccounts(env, ['K1'], cfg, logger);
  dispatcher = await startDispatcherServer({ config: cfg, logger, cacheMs: 100, sweepMs: 500 });
  amqp = await openTestChannel(cfg, logger);
});

afterAll(async () => {
  await amqp?.close();
  await dispatcher?.close();
  await env?.cleanup();
});

/** The environment of a child `ingest consume` in this test's sandbox. */
function consumerEnv(leaseTimeout: string): Record<string, string> {
  return {
    ...configToEnv(env.config, ['pgUrl', 'amqpUrl', 'queuePrefix', 'queueType']),
    INGEST_DISPATCHER_URL: dispatcher.url,
    INGEST_LEASE_TIMEOUT: leaseTimeout,
    INGEST_LOG_LEVEL: 'warn',
    INGEST_LOG_FORMAT: 'json',
  };
}

async function rows(): Promise<number> {
  const r = await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM readings');
  return r.rows[0]!.n;
}

describe.skipIf(!built)('consumer crash (kill -9)', () => {
  it('rows == distinct values after a SIGKILL mid-drain and a second consumer', async () => {
    const MESSAGES = 300;
    const PER = 500;
    for (let m = 0; m < MESSAGES; m++) {
      const readings = Array.from({ length: PER }, (_, i) =>
        reading(`d${m}-${i}`, '2015-04-21T23:15:00+00:00', [
          [402, i],
          [404, m],
        ]),
      );
      publishReadings(amqp.ch, env.queueName('K1'), 'GW:K', 'K1', JSON.stringify(readings), {
        valueCount: PER * 2,
        readingCount: PER,
      });
      // Also a resend of the same batch by the gateway, for good measure.
      if (m % 50 === 0)
        publishReadings(amqp.ch, env.queueName('K1'), 'GW:K', 'K1', JSON.stringify(readings), {
          valueCount: PER * 2,
        });
    }
    const total = MESSAGES * PER * 2;
    const childEnv = consumerEnv('2s');
    const first = startIngest(['consume', '--batch', '100000', '--concurrency', '1'], childEnv);
    const deadline = Date.now() + 20_000;
    let seen = 0;
    while (Date.now() < deadline) {
      seen = await rows();
      if (seen > 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    const atKill = await rows();
    expect(seen).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(total);
    // The dead consumer's lease runs out, then a second consumer finishes the queue.
    await new Promise((r) => setTimeout(r, 2_500));
    await runIngest(['consume', '--once', '--batch', '100000'], childEnv, 60_000);
    expect(await rows()).toBe(total);
    expect((await amqp.ch.checkQueue(env.queueName('K1'))).messageCount).toBe(0);
    const dup = await env.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM (SELECT 1 FROM readings GROUP BY source_key, device, param, ts HAVING count(*) > 1) d',
    );
    expect(dup.rows[0]!.n).toBe(0);
  }, 90_000);

  it('SIGTERM mid-drain: finishes or gives back what it holds, releases its queue, exits 0', async () => {
    await env.pool.query('TRUNCATE readings, consumed_messages');
    const MESSAGES = 200;
    const PER = 500;
    for (let m = 0; m < MESSAGES; m++) {
      const readings = Array.from({ length: PER }, (_, i) =>
        reading(`t${m}-${i}`, '2015-04-21T23:15:00+00:00', [[402, i]]),
      );
      publishReadings(amqp.ch, env.queueName('K1'), 'GW:K', 'K1', JSON.stringify(readings), {
        valueCount: PER,
      });
    }
    const childEnv = consumerEnv('60s');
    const c = startIngest(['consume', '--batch', '100000'], childEnv);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && (await rows()) === 0)
      await new Promise((r) => setTimeout(r, 10));
    const exited = new Promise<number | null>((r) => c.child.once('exit', (code) => r(code)));
    c.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const stored = await rows();
    expect(stored).toBeGreaterThan(0);
    // Nothing lost: what is not a row is back in the queue, and the lease was released
    // (a 60 s lease would otherwise block the next consumer).
    const left = (await amqp.ch.checkQueue(env.queueName('K1'))).messageCount;
    expect(stored / PER + left).toBe(MESSAGES);
    await runIngest(['consume', '--once', '--batch', '100000'], childEnv, 60_000);
    expect(await rows()).toBe(MESSAGES * PER);
  }, 90_000);
});
