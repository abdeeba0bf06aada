/** Graceful drain: a request in flight when close() starts still gets its confirm and its 200. */
import http from 'node:http';
import { Pool } from 'undici';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFrontendServer } from '../../../src/frontend/server.js';
import { silentLogger } from '../../../src/core/logger.js';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';
import { openTestChannel, type TestChannel } from '../../helpers/broker.js';
import { drain, provisionGateway, readings, type Gw } from './helpers.js';

let env: TestEnv;
let amqp: TestChannel;
let gw: Gw;

beforeAll(async () => {
  env = await createTestEnv();
  amqp = await openTestChannel(env.config);
  gw = await provisionGateway(env, 'DRAIN', 'GW:DRAIN');
});

afterAll(async () => {
  await amqp?.close();
  await env?.cleanup();
});

it('finishes in-flight requests (confirmed), refuses new connections, then closes', async () => {
  const server = await startFrontendServer({
    config: env.with({ frontendPort: 0, host: '127.0.0.1' }),
    logger: silentLogger(),
  });
  const body = Buffer.from(JSON.stringify(readings(3000)));
  const url = new URL(
    `${server.url}/readings?source_key=${encodeURIComponent(gw.key)}&x-dexcell-source-token=${gw.token}`,
  );
  const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    // Half the body now: the request is in flight when the drain starts.
    req.write(body.subarray(0, body.length / 2));
    setTimeout(() => req.end(body.subarray(body.length / 2)), 300);
  });
  await new Promise((r) => setTimeout(r, 100));
  const closing = server.close();
  expect(server.readiness().draining).toBe(true);
  // No new connections while draining.
  await expect(fetch(`${server.url}/health`)).rejects.toThrow();
  const res = await answer;
  await closing;
  expect(res.status).toBe(200);
  expect(JSON.parse(res.text)).toEqual({ accepted: 3000, queue: gw.account });
  const msgs = await drain(amqp.ch, gw.queue);
  expect(msgs).toHaveLength(1);
  expect((JSON.parse(msgs[0]!.content.toString()) as unknown[]).length).toBe(3000);
  // close() is idempotent.
  await server.close();
});

it('under keep-alive load: every request sent gets an answer; refused connections are the only errors', async () => {
  const server = await startFrontendServer({
    config: env.with({ frontendPort: 0, host: '127.0.0.1' }),
    logger: silentLogger(),
  });
  const pool = new Pool(server.url, { connections: 8, pipelining: 1 });
  const path = `/readings?source_key=${encodeURIComponent(gw.key)}&x-dexcell-source-token=${gw.token}`;
  const body = JSON.stringify(readings(20));
  const outcomes = new Map<string, number>();
  let accepted = 0;
  let closing: Promise<void> | undefined;
  let sent = 0;
  const count = (k: string): void => void outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      // Bounded: stops once the server is gone (or after 3000 requests in all).
      while (sent < 3_000) {
        sent += 1;
        if (sent === 150) closing = server.close();
        try {
          const res = await pool.request({
            method: 'POST',
            path,
            headers: { 'content-type': 'application/json' },
            body,
          });
          await res.body.text();
          count(String(res.statusCode));
          if (res.statusCode === 200) accepted += 1;
        } catch (err) {
          const code = (err as { code?: string }).code ?? 'unknown';
          count(code);
          if (code === 'ECONNREFUSED') return;
        }
      }
    }),
  );
  await closing;
  await pool.close();
  // A refused connection never carried a request; a socket cut under one would be
  // UND_ERR_SOCKET / ECONNRESET, which a gateway cannot tell from a lost answer.
  const errors = [...outcomes.keys()].filter((k) => !/^\d+$/.test(k));
  expect(
    errors.filter((k) => k !== 'ECONNREFUSED'),
    JSON.stringify([...outcomes]),
  ).toEqual([]);
  expect(accepted).toBeGreaterThanOrEqual(149);
  expect((await drain(amqp.ch, gw.queue)).length).toBe(accepted);
}, 60_000);
