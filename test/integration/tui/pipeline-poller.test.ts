/**
 * The dashboard's poller against real HTTP servers (a tiny node:http stand-in
 * for the frontend's /metrics and /ready and the dispatcher's /queue/status)
 * and a real PostgreSQL database.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPipelinePoller } from '../../../src/admin/pipeline-status.js';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';

let env: TestEnv;
let server: http.Server;
let base: string;
let scrapes = 0;
let readyStatus = 200;

function metrics(n: number): string {
  // Every scrape: 20 more requests (1 a 503), 80 more readings, confirms between 5 and 10 ms.
  return [
    '# TYPE ingest_frontend_requests_total counter',
    `ingest_frontend_requests_total{route="/readings",status="200"} ${19 * n}`,
    `ingest_frontend_requests_total{route="/readings",status="503"} ${n}`,
    `ingest_frontend_requests_total{route="/metrics",status="200"} ${n}`,
    `ingest_frontend_readings_accepted_total ${80 * n}`,
    `ingest_frontend_publish_confirm_seconds_bucket{le="0.005"} 0`,
    `ingest_frontend_publish_confirm_seconds_bucket{le="0.01"} ${19 * n}`,
    `ingest_frontend_publish_confirm_seconds_bucket{le="+Inf"} ${19 * n}`,
    `ingest_frontend_in_flight_requests 1`,
    '',
  ].join('\n');
}

/** Rates are taken against each source's own sample time, so allow some slack. */
function approx(actual: number, expected: number): void {
  expect(actual).toBeGreaterThan(expected * 0.8);
  expect(actual).toBeLessThan(expected * 1.2);
}

const now = Date.now();
const STATUS = {
  dispatcher: {
    state: 'running',
    strategy: 'messages-first',
    effectiveStrategy: 'fifo',
    fallback: true,
    maintainer: { alive: false, lastHeartbeat: null, ageMs: 45_000, staleAfterMs: 30_000 },
    leaseTimeoutMs: 60_000,
  },
  queues: [
    {
      id: 'D0000001',
      state: 'idle',
      messageCount: 5,
      readyCount: 5,
      unackedCount: 0,
      consumer: null,
      leasedAt: null,
    },
    {
      id: 'D0000002',
      state: 'busy',
      messageCount: 120,
      readyCount: 100,
      unackedCount: 20,
      consumer: 'c1',
      leasedAt: new Date(now - 5_000).toISOString(),
    },
    {
      id: 'D0000003',
      state: 'paused',
      messageCount: 7,
      readyCount: 7,
      unackedCount: 0,
      consumer: null,
      leasedAt: null,
    },
  ],
  totals: { queues: 3, busy: 1, paused: 1, deleted: 0, messages: 132 },
  generatedAt: new Date(now).toISOString(),
};

beforeAll(async () => {
  env = await createTestEnv();
  server = http.createServer((req, res) => {
    if (req.url === '/metrics') {
      scrapes += 1;
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(metrics(scrapes));
    } else if (req.url === '/ready') {
      res.writeHead(readyStatus).end();
    } else if (req.url === '/queue/status') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(STATUS));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await env.cleanup();
});

describe('pipeline poller', () => {
  it('computes frontend rates between samples, queue rows deepest first, stored rows/s', async () => {
    const poller = createPipelinePoller({
      frontendUrl: base,
      dispatcherUrl: base,
      pgUrl: env.config.pgUrl,
    });
    try {
      const first = await poller.sample();
      expect(first.frontend).toMatchObject({ ok: true, ready: true, requestsPerSec: 0 });
      expect(first.storage).toMatchObject({ ok: true, rowsPerSec: undefined });

      // 300 rows from a session that then ends (a backend flushes its statistics on exit).
      const client = new pg.Client({ connectionString: env.config.pgUrl });
      await client.connect();
      await client.query(
        `INSERT INTO readings (source_key, device, param, ts, value)
         SELECT 'AA:BB', 'd' || (i % 10), 402, now() - i * interval '1 minute', i FROM generate_series(1, 300) i`,
      );
      await client.end();
      await new Promise((r) => setTimeout(r, 500));

      const second = await poller.sample();
      const f = second.frontend;
      if (!f.ok) throw new Error(f.error);
      const seconds = (second.at - first.at) / 1000;
      // 20 readings requests and 80 readings per scrape; /metrics requests are not counted.
      approx(f.requestsPerSec * seconds, 20);
      approx(f.readingsPerSec * seconds, 80);
      approx(f.non2xxPerSec * seconds, 1);
      expect(f.confirmP50Ms).toBeGreaterThan(5);
      expect(f.confirmP99Ms).toBeLessThanOrEqual(10);
      expect(f.inFlight).toBe(1);

      const d = second.dispatcher;
      if (!d.ok) throw new Error(d.error);
      expect(d.queues.map((q) => q.id)).toEqual(['D0000002', 'D0000003', 'D0000001']);
      expect(d.queues[0]).toMatchObject({ ready: 100, unacked: 20, total: 120, consumer: 'c1' });
      expect(d.queues[0]!.leaseAgeMs).toBeGreaterThanOrEqual(5_000);
      expect(d.byState).toMatchObject({ busy: 1, idle: 1, paused: 1 });
      expect(d.messages).toBe(132);
      expect(d.activeConsumers).toBe(1);
      expect(d.dispatcher).toMatchObject({ effectiveStrategy: 'fifo', fallback: true });

      const s = second.storage;
      if (!s?.ok) throw new Error(s?.error ?? 'no storage section');
      if (!first.storage?.ok) throw new Error('no first storage sample');
      expect(s.rowsInserted - first.storage.rowsInserted).toBe(300);
      expect(s.rowsPerSec).toBeGreaterThan(0);
      expect(s.deliveriesFailedLastHour).toBe(0);
    } finally {
      await poller.close();
      await poller.close();
    }
  });

  it('reports each unreachable part as DOWN with a reason, and not-ready as such', async () => {
    readyStatus = 503;
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((r) => closed.close(r));
    const poller = createPipelinePoller({
      frontendUrl: base,
      dispatcherUrl: deadUrl,
      pgUrl: env.config.pgUrl.replace(/\/[^/]*$/, '/ingest_no_such_database_h4'),
    });
    try {
      const snap = await poller.sample();
      expect(snap.frontend).toMatchObject({ ok: true, ready: false });
      expect(snap.dispatcher).toEqual({ ok: false, error: 'connection refused' });
      expect(snap.storage).toMatchObject({
        ok: false,
        error: expect.stringMatching(/does not exist/),
      });
    } finally {
      readyStatus = 200;
      await poller.close();
    }
  });
});
