/**
 * The built CLI as an operator runs it: provision with `ingest accounts add` and
 * `ingest gateways add`, `ingest sync-cache --once`, `ingest serve-frontend` on a
 * free port (also with --workers 2), POST real readings with node:http, read the
 * stats back with `ingest gateways show --json`, stop with SIGTERM.
 * Needs `npm run build` (npm test runs it first).
 */
import http from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  freePort,
  runIngest,
  startIngest,
  waitForHttp,
  type IngestDaemon,
} from '../../src/loadtest/ingest-process.js';
import { configToEnv } from '../../src/loadtest/sandbox.js';
import { createTestEnv, type TestEnv } from '../helpers/env.js';

let env: TestEnv;
let vars: Record<string, string>;
const daemons: IngestDaemon[] = [];
let token = '';
const KEY = 'BC:6A:29:D0:F5:C8';

function post(
  url: string,
  body: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const u = new URL(`${url}/readings?source_key=${encodeURIComponent(KEY)}`);
    const req = http.request(
      u,
      {
        method: 'POST',
        // A connection per request, so the cluster spreads them over its workers.
        agent: false,
        headers: { 'content-type': 'application/json', 'x-dexcell-source-token': token },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            json: JSON.parse(text) as Record<string, unknown>,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const READING = (i: number) =>
  `{"did": "${i}", "values": [{"p": 402, "v": 191892.0}, {"p": 404, "v": 70010.0}], "sqn": ${i}, "ts": "2015-04-21T23:15:00+00:00"}`;

beforeAll(async () => {
  env = await createTestEnv();
  env.queueName('D0000591');
  vars = {
    ...configToEnv(env.config, ['pgUrl', 'redisUrl', 'amqpUrl', 'redisPrefix', 'queuePrefix']),
    INGEST_LOG_LEVEL: 'warn',
    INGEST_LOG_FORMAT: 'json',
  };
});

afterAll(async () => {
  for (const d of daemons) await d.stop();
  await env?.cleanup();
});

it('provisions through the CLI and explains mistakes', async () => {
  const added = await runIngest(['accounts', 'add', 'D0000591', '--name', 'Plant 591'], vars);
  expect(added).toMatch(/account D0000591 created/);
  await expect(runIngest(['accounts', 'add', 'D0000591'], vars)).rejects.toThrow(
    /ingest: account "D0000591" already exists/,
  );
  const gw = JSON.parse(
    await runIngest(['gateways', 'add', KEY, '--account', 'D0000591', '--json'], vars),
  ) as { token: string };
  token = gw.token;
  expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  await expect(runIngest(['gateways', 'add', 'X:1', '--account', 'NOPE'], vars)).rejects.toThrow(
    /unknown account "NOPE"/,
  );
  const list = JSON.parse(await runIngest(['accounts', 'list', '--json'], vars)) as unknown[];
  expect(list).toMatchObject([{ id: 'D0000591', gateways: 1, active: true }]);
  expect(await runIngest(['sync-cache', '--once'], vars)).toMatch(/added 1 \(BC:6A:29:D0:F5:C8\)/);
  expect(await runIngest(['sync-cache', '--once'], vars)).toMatch(/no changes/);
  await expect(runIngest(['serve-frontend', '--body-limit', '200mb'], vars)).rejects.toThrow(
    'ingest: --body-limit: must be between 1b and 128mb, got "200mb"',
  );
  await expect(runIngest(['serve-frontend', '--body-limit', '0'], vars)).rejects.toThrow(
    'ingest: --body-limit: must be between 1b and 128mb, got "0"',
  );
}, 120_000);

it('serve-frontend accepts readings, gateways show reports them, SIGTERM stops it cleanly', async () => {
  const port = await freePort();
  const d = startIngest(['serve-frontend', '--port', String(port)], vars);
  daemons.push(d);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/ready`, d, 30_000);
  const res = await post(url, `[${READING(1)}, ${READING(2)}, ${READING(3)}]`);
  expect(res).toEqual({ status: 200, json: { accepted: 3, queue: 'D0000591' } });
  const show = JSON.parse(await runIngest(['gateways', 'show', KEY, '--json'], vars)) as {
    gateway: { accountId: string; token: string };
    stats: { readings: { hour: { now: number } }; lastMessages: Array<{ readings: number }> };
  };
  expect(show.gateway.accountId).toBe('D0000591');
  expect(show.gateway.token).toBe(`${token.slice(0, 4)}************`);
  expect(show.stats.readings.hour.now).toBe(3);
  expect(show.stats.lastMessages).toMatchObject([{ readings: 3 }]);
  // Redis away: the gateway (from PostgreSQL) within seconds, the stats marked unavailable.
  const started = Date.now();
  const away = JSON.parse(
    await runIngest(['gateways', 'show', KEY, '--json'], {
      ...vars,
      INGEST_REDIS_URL: 'redis://127.0.0.1:9/0',
    }),
  ) as { gateway: { accountId: string }; stats: null; statsError: string };
  expect(away).toMatchObject({ gateway: { accountId: 'D0000591' }, stats: null });
  expect(away.statsError).toMatch(/Redis not ready within 3000 ms/);
  expect(Date.now() - started).toBeLessThan(10_000);
  await d.stop();
  expect(d.child.exitCode).toBe(0);
  expect(d.output()).not.toContain(token);
}, 120_000);

it('--workers 2: shares the port, aggregates metrics, restarts a dead worker', async () => {
  const port = await freePort();
  const d = startIngest(['serve-frontend', '--port', String(port), '--workers', '2'], {
    ...vars,
    INGEST_LOG_LEVEL: 'info',
  });
  daemons.push(d);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/ready`, d, 45_000);
  // Both workers listening, so round-robin really spreads the requests.
  const listening = () => d.output().match(/"msg":"frontend listening"/g)?.length ?? 0;
  const until = Date.now() + 45_000;
  while (listening() < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
  expect(listening()).toBe(2);
  for (let i = 0; i < 6; i++) expect((await post(url, `[${READING(10 + i)}]`)).status).toBe(200);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  // Round-robin put ~3 on each worker: 6 only if the answer aggregates both.
  const m = /ingest_frontend_readings_accepted_total\{[^}]*\} (\d+)/.exec(metrics);
  expect(Number(m?.[1])).toBe(6);
  const { execFileSync } = await import('node:child_process');
  const children = execFileSync('ps', ['--ppid', String(d.child.pid), '-o', 'pid='])
    .toString()
    .trim()
    .split(/\s+/)
    .map(Number);
  expect(children).toHaveLength(2);
  process.kill(children[0]!, 'SIGKILL');
  const deadline = Date.now() + 30_000;
  let now: number[] = [];
  while (Date.now() < deadline) {
    now = execFileSync('ps', ['--ppid', String(d.child.pid), '-o', 'pid='])
      .toString()
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
    if (now.length === 2 && !now.includes(children[0]!)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(now).toHaveLength(2);
  expect(now).not.toContain(children[0]);
  expect((await post(url, `[${READING(99)}]`)).status).toBe(200);
  await d.stop(20_000);
  expect(d.child.exitCode).toBe(0);
}, 120_000);
