/**
 * RabbitMQ going away under a running frontend (a TCP proxy in front of the real
 * broker is cut): requests get 503 quickly instead of hanging, /ready says so,
 * and once the broker is back the frontend reconnects, re-declares the account
 * queue and accepts again.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFrontendServer, type FrontendServer } from '../../../src/frontend/server.js';
import { silentLogger } from '../../../src/core/logger.js';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';
import { openTestChannel, type TestChannel } from '../../helpers/broker.js';
import { depth, postReadings, provisionGateway, readings, type Gw } from './helpers.js';
import { tcpProxy, viaPort } from '../../helpers/tcp-proxy.js';

let env: TestEnv;
let amqp: TestChannel;
let gw: Gw;
let fe: FrontendServer | undefined;

beforeAll(async () => {
  env = await createTestEnv();
  amqp = await openTestChannel(env.config);
  gw = await provisionGateway(env, 'LOSS', 'GW:LOSS');
});

afterAll(async () => {
  await fe?.close();
  await amqp?.close();
  await env?.cleanup();
});

it('503 fast while the broker is away, 200 again once it is back', async () => {
  const target = new URL(env.config.amqpUrl);
  const proxy = tcpProxy({ host: target.hostname, port: Number(target.port || 5672) });
  const port = await proxy.listen();
  fe = await startFrontendServer({
    config: env.with({
      frontendPort: 0,
      host: '127.0.0.1',
      amqpUrl: viaPort(env.config.amqpUrl, port),
    }),
    logger: silentLogger(),
  });
  expect((await postReadings(fe.url, gw, readings(10))).status).toBe(200);

  // A request whose publish is in flight when the connection goes: 503, and the answer
  // says the connection went (the broker did not refuse anything).
  // (Every publish channel opened first: the frontend has 4, used in turn.)
  for (let i = 0; i < 4; i++)
    expect((await postReadings(fe.url, gw, readings(1))).status).toBe(200);
  proxy.hold();
  const inFlight = postReadings(fe.url, gw, readings(10));
  await new Promise((r) => setTimeout(r, 300));
  await proxy.cut();
  const cutShort = await inFlight;
  expect(cutShort.status).toBe(503);
  expect(cutShort.body).toMatchObject({
    error: 'BROKER_UNAVAILABLE',
    message: expect.stringMatching(/channel to RabbitMQ closed before the broker confirmed/),
  });
  // The connection loss is noticed at once (socket closed), not after a heartbeat.
  await new Promise((r) => setTimeout(r, 200));
  const away = await postReadings(fe.url, gw, readings(10));
  expect(away.status).toBe(503);
  expect(away.ms).toBeLessThan(1_000);
  expect(away.headers.get('retry-after')).toBeTruthy();
  expect((await fetch(`${fe.url}/ready`)).status).toBe(503);

  // The broker "restarts" and the queue was lost with it: the frontend must re-declare it.
  await amqp.ch.deleteQueue(gw.queue);
  await proxy.listen();
  const deadline = Date.now() + 15_000;
  let back = away;
  while (Date.now() < deadline) {
    back = await postReadings(fe.url, gw, readings(10));
    if (back.status === 200) break;
    expect(back.status).toBe(503);
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(back).toMatchObject({ status: 200, body: { accepted: 10, queue: gw.account } });
  expect((await fetch(`${fe.url}/ready`)).status).toBe(200);
  expect(await depth(amqp.ch, gw.queue)).toBe(1);
  await proxy.cut();
}, 30_000);
