import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPipelineLoadtest } from '../../../src/loadtest/pipeline-loadtest.js';
import { pipelineVerdicts } from '../../../src/loadtest/pipeline-report.js';
import { silentLogger } from '../../../src/core/logger.js';
import { readdirSync, readFileSync } from 'node:fs';
import { GROUPS } from '../../../src/loadtest/cpu-budget.js';

/** Whether a process of that name runs on this machine (the servers may be elsewhere). */
function runsHere(comm: string): boolean {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .some((e) => {
      try {
        return readFileSync(`/proc/${e}/comm`, 'utf8').trim() === comm;
      } catch {
        return false;
      }
    });
}
import { createTestEnv, type TestEnv } from '../../helpers/env.js';

// A small pipeline run through the real servers: what counts here is that every
// accepted value is exactly one row and the report is whole, not the speed.
describe('ingest loadtest pipeline (real servers)', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv();
  });
  afterAll(async () => env.cleanup());

  it('stores every accepted value exactly once, warm-up included, and measures the ceiling before and after', async () => {
    const before = await env.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE 'ingest_pipeline_%'",
    );
    const report = await runPipelineLoadtest({
      config: env.config,
      logger: silentLogger(),
      readings: 3_000,
      accounts: 6,
      readingsPerRequest: 100,
      connections: 3,
      consumers: 3,
      batch: 500,
      prefetch: 200,
      writers: 2,
      tricklePauseMs: 50,
      timeoutMs: 60_000,
      ceilingRows: 4_000,
      warmupRequests: 6,
      jitWarmupRequests: 12,
    });
    expect(report.accepted).toMatchObject({ requests: 30, readings: 3_000, values: 6_000 });
    // The warm-up's rows (12 small requests of 20 readings, then 6 of 100) are in the
    // table and in the check, not in the measured figures.
    expect(report.warmup).toMatchObject({ requests: 6, jitRequests: 12, values: 480 + 1_200 });
    expect(report).toMatchObject({ stored: 7_680, duplicates: 0, missing: 0, timedOut: false });
    // (report.seconds is rounded to 10 ms)
    expect(report.valuesPerSec * report.seconds).toBeGreaterThan(6_000 * 0.95);
    expect(report.valuesPerSec * report.seconds).toBeLessThan(6_000 * 1.05);
    expect(report.ceiling?.before.rowsPerSec).toBeGreaterThan(0);
    expect(report.ceiling?.after.rowsPerSec).toBeGreaterThan(0);
    expect(report.ceiling?.rowsPerSec).toBe(
      Math.round((report.ceiling!.before.rowsPerSec + report.ceiling!.after.rowsPerSec) / 2),
    );
    expect(report.lagMs.count).toBe(30);
    // Without a flood the frontend saw the trickle only, and no backlog was watched.
    expect(report.frontend).toMatchObject({ requests: 30, values: 6_000, streams: 'trickle' });
    expect(report.flood).toBeUndefined();
    expect(report.transactions.count).toBeGreaterThan(0);
    // Every message after the warm-up came out of some lease (a lease that ended just after
    // the warm-up's last commit may bring a warm-up message along).
    expect(report.leases.messages).toBeGreaterThanOrEqual(30);
    expect(report.leases.messages).toBeLessThanOrEqual(36);
    expect(report.leases.withMessages).toBeGreaterThan(0);
    expect(report.leases.withMessages).toBeLessThanOrEqual(30);
    expect(pipelineVerdicts(report)[0]).toMatchObject({ name: 'exactly once', ok: true });
    // The CPU budget of the run, read from /proc (the servers are on this machine).
    if (process.platform === 'linux') {
      const cpu = report.cpu!;
      const seconds = new Map(cpu.groups.map((g) => [g.name, g.seconds]));
      expect(seconds.get(GROUPS.self)).toBeGreaterThan(0);
      // The consumers' sessions and the broker were found where they run on this machine
      // (their time may round to 0 in so small a run).
      if (runsHere('postgres')) {
        expect(seconds.has(GROUPS.writes)).toBe(true);
        expect(seconds.has(GROUPS.registry)).toBe(true);
      }
      if (runsHere('beam.smp')) expect(seconds.has(GROUPS.rabbitmq)).toBe(true);
      // busy + idle + steal is the machine's whole capacity over the window.
      const capacity = cpu.cores * cpu.seconds;
      expect(cpu.busy + cpu.idle + cpu.steal).toBeGreaterThan(capacity * 0.8);
      expect(cpu.busy + cpu.idle + cpu.steal).toBeLessThan(capacity * 1.2 + 0.1);
    }
    // The sandbox is dropped afterwards.
    const after = await env.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE 'ingest_pipeline_%'",
    );
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  }, 120_000);

  it('with an HTTP flood: the frontend line counts both streams, and the flood queue is watched', async () => {
    const report = await runPipelineLoadtest({
      config: env.config,
      logger: silentLogger(),
      readings: 1_000,
      accounts: 3,
      readingsPerRequest: 100,
      connections: 4,
      consumers: 3,
      batch: 500,
      prefetch: 200,
      writers: 2,
      flood: { account: 'F0000001', messages: 400, readingsPerMessage: 1, direct: false },
      tricklePauseMs: 50,
      timeoutMs: 60_000,
      ceilingRows: 0,
      warmupRequests: 0,
    });
    // 10 trickle requests of 200 values, 400 flood requests of 2 values.
    expect(report.accepted).toMatchObject({ requests: 410, values: 2_800 });
    expect(report).toMatchObject({ stored: 2_800, duplicates: 0, missing: 0, timedOut: false });
    expect(report.frontend).toMatchObject({
      requests: 410,
      values: 2_800,
      streams: 'trickle+flood',
    });
    expect(report.feedSeconds).toBe(report.frontend.seconds);
    expect(report.frontend.seconds).toBeGreaterThanOrEqual(report.flood!.floodSeconds - 0.02);
    expect(report.flood).toMatchObject({ account: 'F0000001', messagesAccepted: 400, via: 'http' });
    // The flood's queue depth was read while feeding (what it held depends on the machine).
    expect(report.flood!.backlog.samples).toBeGreaterThan(0);
    expect(report.flood!.backlog.peak).toBeGreaterThanOrEqual(0);
    const isolation = pipelineVerdicts(report)[1]!;
    expect(isolation.name).toBe('flood isolation');
    // Either way the report says whether the flood piled up.
    expect(isolation.detail).toMatch(/not exercised|held up to \d+ messages/);
  }, 120_000);
});
