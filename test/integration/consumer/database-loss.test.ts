/**
 * PostgreSQL going away under a consumer in the middle of a drain (a TCP proxy in front of
 * the real server is cut while transactions are open): the consumer must not die on the
 * connection's 'error' event. It backs off, the broker keeps what was not acked, and once
 * the database is back every value is stored exactly once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';
import { provisionConsumerAccounts } from '../../helpers/consumer-accounts.js';
import { openTestChannel } from '../../helpers/broker.js';
import { tcpProxy, viaPort } from '../../helpers/tcp-proxy.js';
import { createLifecycle } from '../../../src/core/lifecycle.js';
import { silentLogger } from '../../../src/core/logger.js';
import { startDispatcherServer, type DispatcherServer } from '../../../src/dispatcher/server.js';
import { runConsumer } from '../../../src/consumer/run.js';
import { publishReadings, reading } from './publish-helpers.js';
import { captureLogs } from '../../helpers/log-capture.js';

const ACCOUNTS = ['L1', 'L2', 'L3'];
const MESSAGES = 60;
const PER_MESSAGE = 200;
let env: TestEnv;
let dispatcher: DispatcherServer;

beforeAll(async () => {
  env = await createTestEnv();
  await provisionConsumerAccounts(env, ACCOUNTS);
  dispatcher = await startDispatcherServer({
    config: env.with({ dispatcherPort: 0, leaseTimeout: '5s' }),
    logger: silentLogger(),
  });
});

afterAll(async () => {
  await dispatcher?.close();
  await env?.cleanup();
});

async function rows(): Promise<number> {
  return (await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM readings')).rows[0]!
    .n;
}

it('a consumer whose database connections drop mid-drain keeps running, then stores everything once', async () => {
  const amqp = await openTestChannel(env.config);
  let expected = 0;
  for (const account of ACCOUNTS)
    for (let m = 0; m < MESSAGES; m++) {
      const batch = Array.from({ length: PER_MESSAGE }, (_, i) =>
        reading(`${account}-${m}-${i}`, '2015-04-21T00:00:00Z', [
          [402, i],
          [404, m],
        ]),
      );
      expected += PER_MESSAGE * 2;
      publishReadings(
        amqp.ch,
        env.queueName(account),
        `GW:${account}`,
        account,
        JSON.stringify(batch),
      );
    }
  await amqp.close();

  const target = new URL(env.config.pgUrl);
  const proxy = tcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const port = await proxy.listen();
  const config = env.with({
    dispatcherUrl: dispatcher.url,
    pgUrl: viaPort(env.config.pgUrl, port),
    leaseTimeout: '5s',
  });
  const { logger, lines } = captureLogs('warn');
  const lifecycle = createLifecycle(silentLogger());
  try {
    // Small groups, so that transactions are open when the cut comes.
    const h = await runConsumer(
      { config, logger, lifecycle },
      { concurrency: 3, batch: 20, once: false, groupValues: 400, writers: 2 },
    );
    const until = Date.now() + 20_000;
    while ((await rows()) === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    const before = await rows();
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(expected);
    expect(proxy.connections()).toBeGreaterThan(0);
    await proxy.cut();
    await new Promise((r) => setTimeout(r, 1_000));
    await proxy.listen();
    const end = Date.now() + 40_000;
    while ((await rows()) < expected && Date.now() < end)
      await new Promise((r) => setTimeout(r, 200));
    const stored = await rows();
    // A stall says where it is stuck: the consumer's warnings, the leases, the sessions.
    const why =
      stored === expected
        ? ''
        : JSON.stringify({
            warnings: lines.slice(-20).map((l) => [l.msg, l.err]),
            busy: (await fetch(`${dispatcher.url}/queue/status`).then((r) => r.json())) as unknown,
            sessions: (
              await env.pool.query(
                `SELECT state, wait_event_type, wait_event, now() - xact_start AS xact_age,
                        left(query, 80) AS query
                   FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
              )
            ).rows,
            totals: h.totals(),
            proxied: proxy.connections(),
          });
    expect(stored, why).toBe(expected);
    // One row per value: the primary key would refuse a second one, so count distinct keys too.
    const distinct = await env.pool.query<{ n: number }>(
      'SELECT count(DISTINCT (source_key, device, param, ts))::int AS n FROM readings',
    );
    expect(distinct.rows[0]!.n).toBe(expected);
    // The cut hit drains in progress (not only idle connections): they failed and were retried.
    expect(lines.map((l) => l.msg)).toContain('drain failed; backing off');
    await h.loop.stop();
  } finally {
    await lifecycle.close();
    await proxy.cut();
  }
}, 90_000);
