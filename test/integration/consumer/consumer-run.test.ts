/**
 * The consumer against a real dispatcher and maintainer: several accounts,
 * --concurrency 2, --once; then a paused queue (renew answers 409) is left alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';
import type { TestChannel } from '../../helpers/broker.js';
import { startConsumerTestBed, type ConsumerTestBed } from '../../helpers/consumer-accounts.js';
import { createLifecycle } from '../../../src/core/lifecycle.js';
import { silentLogger } from '../../../src/core/logger.js';
import type { Config } from '../../../src/core/config.js';
import type { DispatcherServer } from '../../../src/dispatcher/server.js';
import { createDispatcherClient } from '../../../src/dispatcher/client.js';
import { runConsumer } from '../../../src/consumer/run.js';
import { alertsQueueName } from '../../../src/alerts/alert-topology.js';
import { publishReadings, reading } from './publish-helpers.js';
import { spawn } from 'node:child_process';
import { INGEST_BIN } from '../../../src/loadtest/ingest-process.js';
import { configToEnv, SANDBOX_SETTINGS } from '../../../src/loadtest/sandbox.js';

const logger = silentLogger();
const ACCOUNTS = ['C1', 'C2', 'C3', 'C4'];
let env: TestEnv;
let config: Config;
let dispatcher: DispatcherServer;
let amqp: TestChannel;
let bed: ConsumerTestBed | undefined;

beforeAll(async () => {
  env = await createTestEnv();
  bed = await startConsumerTestBed(env, ACCOUNTS, '3s', logger);
  ({ config, dispatcher, amqp } = bed);
});

afterAll(async () => {
  await bed?.close();
  await env?.cleanup();
});

async function count(): Promise<number> {
  const r = await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM readings');
  return r.rows[0]!.n;
}

function publishMany(account: string, messages: number, perMessage: number, tag: string): number {
  let values = 0;
  for (let m = 0; m < messages; m++) {
    const readings = Array.from({ length: perMessage }, (_, i) =>
      reading(`${tag}-${m}-${i}`, '2015-04-21T23:15:00+00:00', [
        [402, i],
        [404, m],
      ]),
    );
    publishReadings(
      amqp.ch,
      env.queueName(account),
      `GW:${account}`,
      account,
      JSON.stringify(readings),
      {
        valueCount: perMessage * 2,
        readingCount: perMessage,
      },
    );
    values += perMessage * 2;
  }
  return values;
}

describe('ingest consume (in-process) with a real dispatcher', () => {
  it('--once --concurrency 2 drains every queue, one row per value, then exits', async () => {
    let expected = 0;
    for (const a of ACCOUNTS) expected += publishMany(a, 12, 50, 'once');
    await new Promise((r) => setTimeout(r, 200));
    const lifecycle = createLifecycle(logger);
    try {
      const h = await runConsumer(
        { config, logger, lifecycle },
        { concurrency: 2, batch: 5, once: true },
      );
      await h.loop.done;
      // What the --once summary line prints.
      expect(h.totals()).toEqual({
        messages: 48,
        alreadyStored: 0,
        values: expected,
        duplicateValues: 0,
        deadLettered: 0,
      });
    } finally {
      await lifecycle.close();
    }
    expect(await count()).toBe(expected);
    for (const a of ACCOUNTS)
      expect((await amqp.ch.checkQueue(env.queueName(a))).messageCount).toBe(0);
    // Every lease was given back.
    const client = createDispatcherClient({ url: dispatcher.url });
    try {
      const status = await client.status();
      expect(status.queues.filter((q) => q.registryState === 'busy')).toEqual([]);
    } finally {
      client.close();
    }
  });

  it('the CLI prints the --once summary on stdout, also at --log-level warn, and exits 0', async () => {
    const values = publishMany('C3', 2, 10, 'cli');
    await new Promise((r) => setTimeout(r, 200));
    const { stdout, code } = await consumeCli(['--once', '--log-level', 'warn']);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(
      `drained: 2 messages, ${values} values stored, 0 duplicate values skipped, 0 dead-lettered`,
    );
    // The same messages again (a gateway resending): taken and acked, nothing written.
    publishMany('C3', 2, 10, 'cli');
    await new Promise((r) => setTimeout(r, 200));
    const again = await consumeCli(['--once', '--log-level', 'warn']);
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toBe(
      `drained: 2 messages (2 already stored), 0 values stored, ${values} duplicate values skipped, 0 dead-lettered`,
    );
  }, 30_000);

  it('--once gives up after --give-up of an unreachable or stopped dispatcher: exit 2, one line saying why', async () => {
    const unreachable = await consumeCli(['--once', '--give-up', '2s'], {
      INGEST_DISPATCHER_URL: 'http://127.0.0.1:9',
    });
    expect(unreachable.code).toBe(2);
    expect(unreachable.stdout.trim()).toMatch(/^drained: 0 messages/);
    expect(unreachable.stderr).toMatch(/^ingest: --once gave up after 2 s: .*127\.0\.0\.1:9/m);
    const client = createDispatcherClient({ url: dispatcher.url });
    await client.stop();
    try {
      const stopped = await consumeCli(['--once', '--give-up', '2s']);
      expect(stopped.code).toBe(2);
      expect(stopped.stderr).toMatch(
        /^ingest: --once gave up after 2 s: the dispatcher at .* is stopped \(ingest dispatcher start\)/m,
      );
    } finally {
      await client.start();
      client.close();
    }
    const bad = await consumeCli(['--once', '--give-up', '10ms']);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe('ingest: --give-up must be between 1s and 24h, got "10ms"');
  }, 30_000);

  it('does not drain a paused queue; stop() releases what it holds', async () => {
    const before = await count();
    const client = createDispatcherClient({ url: dispatcher.url });
    await client.pause('C1');
    const v1 = publishMany('C1', 3, 10, 'paused');
    const v2 = publishMany('C2', 3, 10, 'live');
    await new Promise((r) => setTimeout(r, 200));
    const lifecycle = createLifecycle(logger);
    try {
      const h = await runConsumer(
        { config, logger, lifecycle },
        { concurrency: 2, batch: 50, once: true },
      );
      await h.loop.done;
      expect(await count()).toBe(before + v2);
      expect((await amqp.ch.checkQueue(env.queueName('C1'))).messageCount).toBe(3);
      await client.unpause('C1');
      const h2 = await runConsumer(
        { config, logger, lifecycle: createLifecycle(logger) },
        { concurrency: 1, batch: 50, once: false },
      );
      const end = Date.now() + 10_000;
      while ((await count()) < before + v1 + v2 && Date.now() < end)
        await new Promise((r) => setTimeout(r, 100));
      await h2.loop.stop();
      expect(await count()).toBe(before + v1 + v2);
    } finally {
      client.close();
      await lifecycle.close();
    }
  });

  it('a --once job publishes alert notifications a crashed consumer committed but never published', async () => {
    const alerts = alertsQueueName(config);
    env.queues.add(alerts);
    // Committed with its readings a minute ago; the consumer died before publishing it.
    await env.pool.query(
      `INSERT INTO alert_notifications (idempotency_key, rule_id, endpoint, payload, created_at)
       VALUES ('orphan-1', 1, 'ops', '{"idempotencyKey":"orphan-1","endpoint":"ops"}',
               now() - interval '1 minute')`,
    );
    const lifecycle = createLifecycle(logger);
    try {
      const h = await runConsumer(
        { config, logger, lifecycle },
        { concurrency: 1, batch: 5, once: true },
      );
      await h.loop.done;
    } finally {
      await lifecycle.close();
    }
    const row = await env.pool.query<{ published: boolean }>(
      "SELECT published_at IS NOT NULL AS published FROM alert_notifications WHERE idempotency_key = 'orphan-1'",
    );
    expect(row.rows[0]?.published).toBe(true);
    const msg = await amqp.ch.get(alerts, { noAck: true });
    expect(msg && msg.properties.messageId).toBe('orphan-1');
  });
});

/** `ingest consume <args>` as a process against this file's sandbox; its exit code and output. */
function consumeCli(
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [INGEST_BIN, 'consume', ...args], {
      env: {
        ...process.env,
        ...configToEnv(config, [...SANDBOX_SETTINGS, 'dispatcherUrl']),
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
