/**
 * `ingest up --demo --no-dashboard` as an operator runs it (the built CLI), on
 * free ports, with its own database, Redis prefix and queue prefix: every
 * component comes up, demo traffic becomes rows in `readings`, and one SIGINT
 * stops every child process gracefully.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INGEST_BIN, freePort } from '../../../src/loadtest/ingest-process.js';
import { createTestEnv, REDIS_BASE, type TestEnv } from '../../helpers/env.js';

let env: TestEnv;
let up: ChildProcess | undefined;
let output = '';
const logFile = path.join(os.tmpdir(), `ingest-up-e2e-${process.pid}.log`);

function diagnostics(): string {
  const log = existsSync(logFile)
    ? readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n')
    : '(no log file)';
  return `\n--- ingest up output ---\n${output.slice(-4_000)}\n--- last lines of ${logFile} ---\n${log}`;
}

beforeAll(async () => {
  env = await createTestEnv();
  for (const q of [
    'D0000001',
    'D0000002',
    'D0000003',
    'D0000004',
    'D0000005',
    'alerts',
    'alerts.dead',
    'readings.dead',
  ])
    env.queueName(q);
});

afterAll(async () => {
  if (up && up.exitCode === null && up.signalCode === null) {
    up.kill('SIGKILL');
    // Its children are in their own process groups: up kills them on exit, but not on SIGKILL.
    for (const m of output.matchAll(/started \S+ \(pid (\d+)\)/g)) {
      try {
        process.kill(-Number(m[1]), 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
  await env.cleanup();
  rmSync(logFile, { force: true });
});

describe('ingest up --demo --no-dashboard', () => {
  it(
    'runs the pipeline: demo readings become rows, one SIGINT stops every component',
    { timeout: 150_000 },
    async () => {
      const [frontendPort, dispatcherPort] = [await freePort(), await freePort()];
      up = spawn(
        process.execPath,
        [
          INGEST_BIN,
          'up',
          '--demo',
          '--no-dashboard',
          '--frontend-port',
          String(frontendPort),
          '--dispatcher-port',
          String(dispatcherPort),
          '--demo-rate',
          '10',
          '--demo-duration',
          '8s',
          '--consumers',
          '1',
          '--status-interval',
          '2s',
          '--log-file',
          logFile,
        ],
        {
          env: {
            ...process.env,
            INGEST_PG_URL: env.config.pgUrl,
            INGEST_REDIS_URL: REDIS_BASE,
            INGEST_REDIS_PREFIX: env.config.redisPrefix,
            INGEST_QUEUE_PREFIX: env.config.queuePrefix,
            INGEST_AMQP_URL: env.config.amqpUrl,
            INGEST_LOG_LEVEL: 'info',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      up.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      up.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      const exited = new Promise<number | null>((resolve) =>
        up!.once('exit', (code) => resolve(code)),
      );

      // Rows in readings: the whole path frontend -> queue -> dispatcher -> consumer -> PostgreSQL works.
      const deadline = Date.now() + 90_000;
      let rows = 0;
      while (Date.now() < deadline && up.exitCode === null) {
        const r = await env.pool
          .query<{ n: number }>('SELECT count(*)::int AS n FROM readings')
          .catch(() => ({ rows: [{ n: 0 }] }));
        rows = r.rows[0]?.n ?? 0;
        if (rows > 0 && /processes 6\/6 up/.test(output)) break;
        await new Promise((r) => setTimeout(r, 1_000));
      }
      if (rows === 0)
        throw new Error(
          `no rows reached \`readings\` within 90 s (frontend, sync-cache, dispatch, maintain, consume and notify must all work)${diagnostics()}`,
        );
      expect(output, diagnostics()).toMatch(/processes 6\/6 up/);
      expect(output).toMatch(/added 5 account\(s\) and 10 gateway\(s\)/);
      expect(output).toMatch(/frontend ready \d+(\.\d)?\/s req/);
      const stored = await env.pool.query<{ n: number }>(
        `SELECT count(DISTINCT source_key)::int AS n FROM readings WHERE source_key LIKE '02:DE:%'`,
      );
      expect(stored.rows[0]!.n).toBeGreaterThan(0);

      // Exactly once: when the bounded demo traffic is done, every accepted reading (4 values each)
      // becomes exactly one row per value.
      const done = await (async () => {
        const end = Date.now() + 30_000;
        while (Date.now() < end) {
          const m = /demo done: sent (\d+), 2xx (\d+) \((\d+) readings\)/.exec(output);
          if (m) return { sent: Number(m[1]), ok: Number(m[2]), readings: Number(m[3]) };
          await new Promise((r) => setTimeout(r, 500));
        }
        throw new Error(`demo traffic did not finish${diagnostics()}`);
      })();
      expect(done.ok, diagnostics()).toBe(done.sent);
      expect(done.readings).toBe(done.ok * 4);
      const expectedRows = done.readings * 4;
      const rowsDeadline = Date.now() + 45_000;
      while (Date.now() < rowsDeadline) {
        rows = (await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM readings'))
          .rows[0]!.n;
        if (rows >= expectedRows) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(rows, `rows in readings vs values accepted${diagnostics()}`).toBe(expectedRows);

      const pids = [...output.matchAll(/started (\S+) \(pid (\d+)\)/g)].map((m) => Number(m[2]));
      expect(pids.length).toBeGreaterThanOrEqual(6);
      up.kill('SIGINT');
      const code = await Promise.race([
        exited,
        new Promise((r) => setTimeout(() => r('timeout'), 40_000)),
      ]);
      expect(code, diagnostics()).toBe(0);
      // A component that outlives the grace period is SIGKILLed: that is up's contract too (its own
      // graceful shutdown is that component's test), but say so when it happens.
      expect(output).toMatch(/ingest up: (every component stopped|killed after \S+: [\w, -]+)/);
      for (const pid of pids)
        expect(() => process.kill(pid, 0), `pid ${pid} still alive`).toThrow();
      const log = readFileSync(logFile, 'utf8');
      expect(log).toMatch(/\[frontend\] /);
      // Consumers start once the dispatcher answers: no "unreachable" noise at start.
      expect(log).not.toMatch(/\[consume-\d\].*dispatcher unreachable/);
    },
  );
});
