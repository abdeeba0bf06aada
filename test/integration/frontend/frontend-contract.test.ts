/** Every row of DESIGN §3's table, against real servers (PostgreSQL, Redis, RabbitMQ) over real HTTP. */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Channel } from 'amqplib';
import { startFrontendServer, type FrontendServer } from '../../../src/frontend/server.js';
import {
  createAmqpConnection,
  type AmqpConnection,
} from '../../../src/adapters/rabbitmq/connection.js';
import { createProvisioning } from '../../../src/provisioning/provisioning.js';
import { headersToMeta, readingsMessageId } from '../../../src/core/message.js';
import type { ConfigOverrides } from '../../../src/core/config.js';
import { pino } from 'pino';
import { silentLogger } from '../../../src/core/logger.js';
import { hintsKey } from '../../../src/adapters/redis/queue-hints.js';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';
import {
  depth,
  drain,
  postReadings,
  provisionGateway,
  readings,
  syncCache,
  type Gw,
} from './helpers.js';

let env: TestEnv;
let amqp: AmqpConnection;
let ch: Channel;
let fe: FrontendServer;
let gw: Gw;
const extra: FrontendServer[] = [];

async function frontend(overrides: ConfigOverrides = {}): Promise<FrontendServer> {
  const s = await startFrontendServer({
    config: env.with({ frontendPort: 0, host: '127.0.0.1', ...overrides }),
    logger: silentLogger(),
  });
  extra.push(s);
  return s;
}

beforeAll(async () => {
  env = await createTestEnv();
  amqp = createAmqpConnection({ url: env.config.amqpUrl, logger: silentLogger() });
  await amqp.ready();
  ch = await amqp.createChannel();
  gw = await provisionGateway(env, 'D0000591', 'BC:6A:29:D0:F5:C8');
  fe = await frontend();
});

afterAll(async () => {
  for (const s of extra) await s.close();
  await ch?.close().catch(() => undefined);
  await amqp?.close();
  await env?.cleanup();
});

describe('200: all valid, all confirmed', () => {
  it('publishes the request as ONE persistent message holding the bytes as received', async () => {
    const body = JSON.stringify(readings(3));
    const res = await postReadings(fe.url, gw, body);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ accepted: 3, queue: gw.account });
    const msgs = await drain(ch, gw.queue);
    expect(msgs).toHaveLength(1);
    const m = msgs[0]!;
    expect(m.content.toString()).toBe(body);
    expect(m.properties.deliveryMode).toBe(2);
    expect(m.properties.contentType).toBe('application/json');
    expect(m.properties.type).toBe('readings');
    expect(m.properties.messageId).toBe(readingsMessageId(gw.key, Buffer.from(body)));
    expect(headersToMeta(m.properties.headers)).toMatchObject({
      sourceKey: gw.key,
      account: 'D0000591',
      readingCount: 3,
      valueCount: 6,
    });
    // The publish hint for the dispatchers rides along with the gateway stats.
    expect(await env.redis.sismember(hintsKey(env.config.redisPrefix), 'D0000591')).toBe(1);
  });

  it('takes the token from the header too, and a single reading object', async () => {
    const res = await postReadings(fe.url, gw, readings(1)[0], { tokenIn: 'header' });
    expect(res).toMatchObject({ status: 200, body: { accepted: 1, queue: gw.account } });
    expect(await drain(ch, gw.queue)).toHaveLength(1);
  });

  it('accepts Content-Encoding: gzip and publishes the decoded JSON', async () => {
    const body = JSON.stringify(readings(20));
    const res = await postReadings(fe.url, gw, null, {
      raw: gzipSync(body),
      headers: { 'content-encoding': 'gzip' },
    });
    expect(res).toMatchObject({ status: 200, body: { accepted: 20 } });
    const msgs = await drain(ch, gw.queue);
    expect(msgs.map((m) => m.content.toString())).toEqual([body]);
  });

  it('splits a request over --chunk-readings into several messages whose readings sum to N', async () => {
    const chunked = await frontend({ chunkReadings: 100 });
    const all = readings(250);
    const res = await postReadings(chunked.url, gw, all);
    expect(res).toMatchObject({ status: 200, body: { accepted: 250 } });
    const msgs = await drain(ch, gw.queue);
    expect(msgs).toHaveLength(3);
    const parsed = msgs.map((m) => JSON.parse(m.content.toString()) as unknown[]);
    expect(parsed.map((p) => p.length).sort()).toEqual([100, 100, 50]);
    expect(parsed.flat()).toHaveLength(250);
    expect(new Set(parsed.flat().map((r) => JSON.stringify(r)))).toEqual(
      new Set(all.map((r) => JSON.stringify(r))),
    );
    expect(msgs.map((m) => headersToMeta(m.properties.headers).chunk).sort()).toEqual([
      '1/3',
      '2/3',
      '3/3',
    ]);
    expect(new Set(msgs.map((m) => m.properties.messageId)).size).toBe(3);
  });
});

describe('401: unknown source_key or wrong token', () => {
  it('answers the same body for both, and publishes nothing', async () => {
    const unknown = await postReadings(fe.url, { key: 'NO:SU:CH', token: gw.token }, readings(1));
    const wrong = await postReadings(fe.url, { key: gw.key, token: 'w'.repeat(43) }, readings(1));
    const missing = await postReadings(fe.url, { key: gw.key, token: '' }, readings(1));
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(missing.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(JSON.stringify(wrong.body)).not.toContain('w'.repeat(43));
    expect(await depth(ch, gw.queue)).toBe(0);
  });
});

describe('403: gateway disabled or account deactivated', () => {
  it('refuses a disabled gateway and a deactivated account, publishing nothing', async () => {
    const prov = createProvisioning({ pool: env.pool, config: env.config });
    const g2 = await provisionGateway(env, 'D0000592', 'GW:403:01');
    const g3 = await provisionGateway(env, 'D0000593', 'GW:403:02');
    await prov.setGatewayEnabled(g2.key, false);
    await prov.setAccountActive('D0000593', false);
    await syncCache(env);
    // A fresh frontend: its token cache has never seen these gateways enabled.
    const f = await frontend();
    const disabled = await postReadings(f.url, g2, readings(1));
    const inactive = await postReadings(f.url, g3, readings(1));
    expect(disabled).toMatchObject({
      status: 403,
      body: { error: 'FORBIDDEN', message: 'gateway disabled' },
    });
    expect(inactive).toMatchObject({
      status: 403,
      body: { error: 'FORBIDDEN', message: 'account deactivated' },
    });
    // Their queues were never even declared.
    const probe = await amqp.createChannel();
    await expect(probe.checkQueue(g2.queue)).rejects.toThrow(/404/);
  });
});

describe('400 / 415: malformed, wrong content type, schema violation', () => {
  it('names the index of the first bad reading and why; all-or-nothing', async () => {
    const batch: unknown[] = readings(5);
    batch[3] = { did: '7', values: [{ p: 1, v: 'x' }], ts: '2024-01-01T00:00:00Z' };
    batch[4] = { did: '', values: [] };
    const res = await postReadings(fe.url, gw, batch);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      error: 'VALIDATION',
      index: 3,
      reason: 'values[0].v must be a finite number',
    });
    const noOffset = await postReadings(fe.url, gw, [
      { did: 1, values: [{ p: 1, v: 1 }], ts: '2024-01-01T00:00:00' },
    ]);
    expect(noOffset.body).toMatchObject({ index: 0 });
    expect(String(noOffset.body.reason)).toMatch(/ts must be an ISO-8601 timestamp with an offset/);
    // A date JavaScript takes but PostgreSQL would refuse: 400 here, not a dead letter later.
    const feb30 = await postReadings(fe.url, gw, [
      ...readings(2),
      { did: 1, values: [{ p: 1, v: 1 }], ts: '2015-02-30T00:00:00+00:00' },
    ]);
    expect(feb30.status).toBe(400);
    expect(feb30.body).toMatchObject({ index: 2 });
    expect(String(feb30.body.reason)).toMatch(/not a real date/);
    // No reading to point at: no index, and a reason that says so.
    const empty = await postReadings(fe.url, gw, []);
    expect(empty).toMatchObject({
      status: 400,
      body: { message: 'the body holds no readings (an empty array)' },
    });
    expect(empty.body).not.toHaveProperty('index');
    expect(await depth(ch, gw.queue)).toBe(0);
  });

  it('400 for malformed JSON, 415 for another content type or encoding', async () => {
    const bad = await postReadings(fe.url, gw, '[{"did": "1",');
    expect(bad).toMatchObject({ status: 400, body: { error: 'VALIDATION' } });
    expect(String(bad.body.message)).toMatch(/malformed JSON/);
    const text = await postReadings(fe.url, gw, JSON.stringify(readings(1)), {
      headers: { 'content-type': 'text/plain' },
    });
    expect(text).toMatchObject({
      status: 415,
      body: {
        error: 'UNSUPPORTED_MEDIA_TYPE',
        message: 'unsupported Content-Type "text/plain": send application/json',
      },
    });
    const br = await postReadings(fe.url, gw, JSON.stringify(readings(1)), {
      headers: { 'content-encoding': 'br' },
    });
    expect(br.status).toBe(415);
    const notGzip = await postReadings(fe.url, gw, JSON.stringify(readings(1)), {
      headers: { 'content-encoding': 'gzip' },
    });
    expect(notGzip.status).toBe(400);
    expect(await depth(ch, gw.queue)).toBe(0);
  });
});

describe('413: body over the limit', () => {
  it('refuses a body over --body-limit, also when it only gets there once gunzipped', async () => {
    const small = await frontend({ bodyLimit: '4kb' });
    const big = JSON.stringify(readings(100));
    expect(big.length).toBeGreaterThan(4096);
    const res = await postReadings(small.url, gw, big);
    expect(res).toMatchObject({
      status: 413,
      body: {
        error: 'BODY_TOO_LARGE',
        message: 'request body over the limit of 4096 bytes (INGEST_BODY_LIMIT / --body-limit)',
      },
    });
    const zipped = gzipSync(big);
    expect(zipped.length).toBeLessThan(4096);
    const bomb = await postReadings(small.url, gw, null, {
      raw: zipped,
      headers: { 'content-encoding': 'gzip' },
    });
    expect(bomb).toMatchObject({ status: 413, body: { error: 'BODY_TOO_LARGE' } });
    expect(await depth(ch, gw.queue)).toBe(0);
  });
});

describe('503 with Retry-After: never a 2xx for data that is not confirmed', () => {
  it('RabbitMQ unreachable: 503 quickly, no hang; the token stays out of the logs', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (l: string) => void lines.push(l) });
    const f = await startFrontendServer({
      config: env.with({
        frontendPort: 0,
        host: '127.0.0.1',
        amqpUrl: 'amqp://guest:guest@127.0.0.1:1',
      }),
      logger,
      startupWaitMs: 500,
    });
    extra.push(f);
    const res = await postReadings(f.url, gw, readings(10));
    expect(lines.join('')).toMatch(/request failed/);
    expect(lines.join('')).not.toContain(gw.token);
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('BROKER_UNAVAILABLE');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(res.ms).toBeLessThan(1_000);
    const ready = await fetch(`${f.url}/ready`);
    expect(ready.status).toBe(503);
  });

  it('Redis unreachable: 503', async () => {
    const f = await frontend({ redisUrl: 'redis://127.0.0.1:1' });
    const res = await postReadings(f.url, gw, readings(10));
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('CACHE_UNAVAILABLE');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await fetch(`${f.url}/ready`)).status).toBe(503);
  });

  it('publish nacked (queue full with reject-publish): 503', async () => {
    const g = await provisionGateway(env, 'NACKED', 'GW:NACK');
    // Declared elsewhere with other arguments: the frontend accepts that it exists.
    await ch.assertQueue(g.queue, {
      durable: true,
      arguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' },
    });
    const res = await postReadings(fe.url, g, readings(5));
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('PUBLISH_FAILED');
    expect(res.headers.get('retry-after')).toBeTruthy();
  });

  it('unroutable (queue deleted behind its back): 503, then re-declared on the next request', async () => {
    const g = await provisionGateway(env, 'GONE', 'GW:GONE');
    expect((await postReadings(fe.url, g, readings(2))).status).toBe(200);
    await ch.deleteQueue(g.queue);
    const res = await postReadings(fe.url, g, readings(2));
    expect(res.status).toBe(503);
    expect(String(res.body.message)).toMatch(/unroutable/);
    const again = await postReadings(fe.url, g, readings(2));
    expect(again.status).toBe(200);
    expect(await depth(ch, g.queue)).toBe(1);
  });

  it('not confirmed in time (--publish-timeout): 503', async () => {
    const f = await frontend({ publishTimeout: '1ms' });
    const res = await postReadings(f.url, gw, readings(3000));
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('PUBLISH_FAILED');
    expect(String(res.body.message)).toMatch(/did not confirm/);
    await drain(ch, gw.queue);
  });
});

describe('429 with Retry-After', () => {
  it('per-gateway rate limit (token bucket)', async () => {
    const f = await frontend({ rateLimit: 1 });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await postReadings(f.url, gw, readings(1)));
    // Burst of 2 (2x the rate), then refused until the bucket refills.
    expect(answers.slice(0, 2).map((a) => a.status)).toEqual([200, 200]);
    const limited = answers.find((a) => a.status === 429);
    expect(limited?.body.error).toBe('RATE_LIMITED');
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThan(0);
    await drain(ch, gw.queue);
  });

  it('account queue deeper than --max-queue-depth: 429, nothing published', async () => {
    await drain(ch, gw.queue);
    const f = await frontend({ maxQueueDepth: 1 });
    expect((await postReadings(f.url, gw, readings(1))).status).toBe(200);
    expect((await postReadings(f.url, gw, readings(1))).status).toBe(200);
    // The depth is sampled at most once a second.
    await new Promise((r) => setTimeout(r, 1_100));
    const res = await postReadings(f.url, gw, readings(1));
    expect(res).toMatchObject({ status: 429, body: { error: 'BACKPRESSURE' } });
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await depth(ch, gw.queue)).toBe(2);
    await drain(ch, gw.queue);
  });
});

describe('stats, admin, health, metrics', () => {
  it('records per-gateway readings and the last 10 messages, served at /admin/gateways[/:key]', async () => {
    const g = await provisionGateway(env, 'STATS', 'GW:STATS');
    for (let i = 1; i <= 12; i++)
      expect((await postReadings(fe.url, g, readings(i))).status).toBe(200);
    const res = await fetch(`${fe.url}/admin/gateways/${encodeURIComponent(g.key)}`);
    expect(res.status).toBe(200);
    const page = (await res.json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON page
    expect(page).toMatchObject({
      sourceKey: g.key,
      registered: true,
      account: 'STATS',
      enabled: true,
    });
    expect(page.token).toBe(`${g.token.slice(0, 4)}${'*'.repeat(12)}`);
    expect(JSON.stringify(page)).not.toContain(g.token);
    expect(page.readings.hour.now).toBe(78);
    expect(page.readings.month.now).toBe(78);
    expect(page.lastMessages).toHaveLength(10);
    expect(page.lastMessages[0]).toMatchObject({ readings: 12 });
    expect(page.lastMessages[0].messageId).toMatch(/^[0-9a-f]{32}$/);
    expect(page.lastMessages[0].bytes).toBeGreaterThan(0);
    const list = (await (await fetch(`${fe.url}/admin/gateways`)).json()) as Array<
      Record<string, unknown>
    >;
    expect(list.find((x) => x.sourceKey === g.key)).toMatchObject({
      account: 'STATS',
      readings: { hour: 78 },
    });
    expect((await fetch(`${fe.url}/admin/gateways/NO:PE`)).status).toBe(404);
    await drain(ch, g.queue);
  });

  it('a stats failure after the confirm is logged and counted, never a 503', async () => {
    const g = await provisionGateway(env, 'STATS2', 'GW:STATS2');
    // Make the last-messages key the wrong type: the stats MULTI fails.
    await env.redis.set(`${env.config.redisPrefix}last:${g.key}`, 'not a list');
    const res = await postReadings(fe.url, g, readings(4));
    expect(res.status).toBe(200);
    expect(await depth(ch, g.queue)).toBe(1);
    const metrics = await (await fetch(`${fe.url}/metrics`)).text();
    expect(metrics).toMatch(/ingest_frontend_stats_failures_total\{[^}]*\} [1-9]/);
  });

  it('admin endpoints require the admin token when one is set', async () => {
    const f = await frontend({ adminToken: 'admin-secret-123' });
    expect((await fetch(`${f.url}/admin/gateways`)).status).toBe(401);
    const ok = await fetch(`${f.url}/admin/gateways`, {
      headers: { authorization: 'Bearer admin-secret-123' },
    });
    expect(ok.status).toBe(200);
  });

  it('/health, /ready and /metrics', async () => {
    expect((await fetch(`${fe.url}/health`)).status).toBe(200);
    const ready = await fetch(`${fe.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      ready: true,
      redis: true,
      rabbitmq: true,
      draining: false,
    });
    const text = await (await fetch(`${fe.url}/metrics`)).text();
    expect(text).toMatch(
      /ingest_frontend_requests_total\{route="\/readings",status="200"[^}]*\} \d+/,
    );
    expect(text).toMatch(
      /ingest_frontend_requests_total\{route="\/readings",status="401"[^}]*\} \d+/,
    );
    expect(text).toMatch(/ingest_frontend_readings_accepted_total\{[^}]*\} \d+/);
    expect(text).toMatch(/ingest_frontend_readings_rejected_total\{reason="invalid"[^}]*\} \d+/);
    expect(text).toMatch(/ingest_frontend_publish_confirm_seconds_bucket/);
    expect(text).toMatch(
      /ingest_frontend_publish_failures_total\{code="PUBLISH_FAILED"[^}]*\} [1-9]/,
    );
    expect(text).toMatch(/ingest_frontend_in_flight_requests\{[^}]*\} 0/);
  });
});
