/**
 * `ingest alerts endpoints update` against a real PostgreSQL and RabbitMQ: an
 * endpoint's URL and secret change in place (its rules keep it), the command
 * refuses nothing-to-do, an unknown name and a bad URL, and a running notifier
 * POSTs to the new URL with the new signature within about a second.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';
import { openTestBroker, type TestBroker } from '../../helpers/broker.js';
import { silentLogger } from '../../../src/core/logger.js';
import type { Config } from '../../../src/core/config.js';
import {
  addEndpoint,
  addRule,
  listEndpoints,
  listRules,
  updateEndpoint,
} from '../../../src/alerts/alerts.repo.js';
import { alertsQueueName, assertAlertTopology } from '../../../src/alerts/alert-topology.js';
import { deadQueueName } from '../../../src/deadletters/dead-letter-queues.js';
import { createNotifier, type Notifier } from '../../../src/notifier/notifier.js';
import { ingestInProcess } from '../../helpers/cli.js';
import {
  startRecordingEndpoint,
  type EndpointHit,
  type RecordingEndpoint,
} from '../../helpers/http-endpoint.js';

const logger = silentLogger();
let env: TestEnv;
let config: Config;
let broker: TestBroker;
let notifier: Notifier | undefined;
let endpoint: RecordingEndpoint;
let base = '';
let hits: EndpointHit[];

beforeAll(async () => {
  env = await createTestEnv();
  config = env.with({ notifyRetries: 1, notifyTimeout: '2s' });
  broker = await openTestBroker(config, logger);
  await assertAlertTopology(broker.ch, config);
  env.queues.add(alertsQueueName(config));
  env.queues.add(deadQueueName(config, 'alerts'));
  await env.pool.query("INSERT INTO accounts (id) VALUES ('A')");
  endpoint = await startRecordingEndpoint();
  ({ hits, base } = endpoint);
});

afterAll(async () => {
  await notifier?.close();
  await broker?.close();
  await endpoint?.close();
  await env?.cleanup();
});

/** Runs `ingest alerts endpoints ...` on this file's database; stdout is captured. */
const ingest = (args: string): Promise<string> =>
  ingestInProcess(['alerts', 'endpoints', ...args.split(' ')], env.config.pgUrl);

async function until<T>(f: () => T | Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sign = (secret: string, body: string): string =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

describe('alert endpoints update', () => {
  it('changes the URL and/or secret in place; the rules using the endpoint keep it', async () => {
    await addEndpoint(env.pool, { name: 'ops', url: 'http://127.0.0.1:9/a', secret: 'one' });
    const r = await addRule(env.pool, { account: 'A', param: 402, above: 1, endpoint: 'ops' });
    expect(await updateEndpoint(env.pool, 'ops', { secret: 'two' })).toMatchObject({
      name: 'ops',
      url: 'http://127.0.0.1:9/a',
      secret: 'two',
    });
    expect(
      await updateEndpoint(env.pool, 'ops', { url: 'https://ops.example.com/b' }),
    ).toMatchObject({ url: 'https://ops.example.com/b', secret: 'two' });
    expect(await updateEndpoint(env.pool, 'ops', { secret: null })).toMatchObject({
      url: 'https://ops.example.com/b',
      secret: null,
    });
    expect((await listRules(env.pool)).map((x) => [x.id, x.endpoint])).toEqual([[r.id, 'ops']]);
  });

  it('moves the alert config version (what the caches check)', async () => {
    const version = async () =>
      Number((await env.pool.query('SELECT version FROM alert_config_version')).rows[0].version);
    const before = await version();
    await updateEndpoint(env.pool, 'ops', { secret: 'three' });
    expect(await version()).toBeGreaterThan(before);
  });

  it('ingest alerts endpoints update refuses nothing to change, an unknown name, a bad URL, both secret flags', async () => {
    const before = await listEndpoints(env.pool);
    await expect(ingest('update ops')).rejects.toMatchObject({
      code: 'VALIDATION',
      message: 'nothing to change: give --url, --secret or --no-secret',
    });
    await expect(ingest('update nope --url http://127.0.0.1:9/x')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('no endpoint "nope"'),
    });
    await expect(ingest('update ops --url not-a-url')).rejects.toThrow('not a URL: not-a-url');
    await expect(ingest('update ops --url ftp://127.0.0.1/x')).rejects.toThrow(
      'endpoint URL must be http:// or https://',
    );
    await expect(ingest('update ops --secret x --no-secret')).rejects.toThrow(
      'give --secret or --no-secret, not both',
    );
    await expect(ingest('update ops --secret ')).rejects.toThrow('--no-secret');
    expect(await listEndpoints(env.pool)).toEqual(before);
  });

  it('ingest alerts endpoints update prints the endpoint like list does, secret masked; --json too', async () => {
    const out = await ingest('update ops --secret n3w-s3cret');
    expect(out).toMatch(/^endpoint ops updated\n/);
    expect(out).toContain('https://ops.example.com/b');
    expect(out).toContain('*** (set)');
    expect(out).not.toContain('n3w-s3cret');
    expect((await listEndpoints(env.pool)).find((e) => e.name === 'ops')?.secret).toBe(
      'n3w-s3cret',
    );
    const json = JSON.parse(
      await ingest('update ops --url http://127.0.0.1:9/c --no-secret --json'),
    ) as Record<string, unknown>;
    expect(json).toMatchObject({ name: 'ops', url: 'http://127.0.0.1:9/c', secret: null });
    expect((await listEndpoints(env.pool)).find((e) => e.name === 'ops')).toMatchObject({
      url: 'http://127.0.0.1:9/c',
      secret: null,
    });
  });

  it('a running notifier POSTs to the new URL with the new signature within about a second', async () => {
    await addEndpoint(env.pool, { name: 'hook', url: `${base}/old`, secret: 'one' });
    notifier = createNotifier(
      { conn: broker.conn, publisher: broker.publisher, pool: env.pool, config, logger },
      { concurrency: 1 },
    );
    await notifier.start();
    const send = (key: string) =>
      broker.publisher.publish(
        {
          routingKey: alertsQueueName(config),
          body: Buffer.from(JSON.stringify({ idempotencyKey: key, endpoint: 'hook' })),
          options: { persistent: true, contentType: 'application/json', messageId: key },
        },
        5_000,
      );
    await send('k1');
    await until(
      () => hits.length,
      (n) => n === 1,
    );
    expect(hits[0]).toMatchObject({
      path: '/old',
      headers: { 'x-ingest-signature': sign('one', hits[0]!.body) },
    });

    // The notifier has its endpoints cached now; change them under it.
    await ingest(`update hook --url ${base}/new --secret two`);
    await new Promise((r) => setTimeout(r, 1_100));
    await send('k2');
    await until(
      () => hits.length,
      (n) => n === 2,
    );
    expect(hits[1]).toMatchObject({
      path: '/new',
      headers: { 'x-ingest-signature': sign('two', hits[1]!.body) },
    });
    expect(JSON.parse(hits[1]!.body)).toMatchObject({ idempotencyKey: 'k2' });
  });
});
