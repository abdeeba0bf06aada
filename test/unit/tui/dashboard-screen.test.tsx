import { render } from 'ink';
import { afterEach, describe, expect, it } from 'vitest';
import type { PipelineSnapshot } from '../../../src/admin/pipeline-status.js';
import { DashboardScreen } from '../../../src/tui/dashboard-screen.js';
import { FakeStdin, FakeStdout, fakeTerminalOptions, waitFor } from './fake-terminal.js';

function snapshot(over: Partial<PipelineSnapshot> = {}, queues = 40): PipelineSnapshot {
  const rows = Array.from({ length: queues }, (_, i) => ({
    id: `D${String(i + 1).padStart(7, '0')}`,
    state: (i % 3 === 0 ? 'busy' : i % 3 === 1 ? 'idle' : 'empty') as 'busy' | 'idle' | 'empty',
    ready: 1000 - i * 10,
    unacked: i % 3 === 0 ? 50 : 0,
    total: 1000 - i * 10 + (i % 3 === 0 ? 50 : 0),
    consumer: i % 3 === 0 ? `host-a:${1000 + i}/0` : null,
    leaseAgeMs: i % 3 === 0 ? 1_500 : null,
  }));
  return {
    at: Date.now(),
    frontendUrl: 'http://127.0.0.1:8080',
    dispatcherUrl: 'http://127.0.0.1:8081',
    frontend: {
      ok: true,
      ready: true,
      requestsPerSec: 19.8,
      readingsPerSec: 79.2,
      non2xxPerSec: 0,
      requestsTotal: 1200,
      non2xxTotal: 3,
      readingsTotal: 4800,
      confirmP50Ms: 3.2,
      confirmP99Ms: 11,
      inFlight: 0,
    },
    dispatcher: {
      ok: true,
      dispatcher: {
        state: 'running',
        strategy: 'messages-first',
        effectiveStrategy: 'messages-first',
        fallback: false,
        maintainer: { alive: true, lastHeartbeat: null, ageMs: 3_000, staleAfterMs: 30_000 },
        leaseTimeoutMs: 60_000,
        waitingConsumers: 2,
      },
      queues: rows,
      byState: { busy: 14, idle: 13, empty: 13, paused: 1, deleted: 0 },
      messages: rows.reduce((n, r) => n + r.total, 0),
      activeConsumers: 14,
    },
    storage: {
      ok: true,
      rowsPerSec: 316,
      rowsInserted: 500_000,
      rowsEstimate: 123_456,
      deliveriesFailedLastHour: 2,
      deliveriesDeadLastHour: 0,
    },
    ...over,
  };
}

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

function mount(
  size: [number, number],
  sample: () => Promise<PipelineSnapshot>,
  extras?: () => object,
) {
  const stdout = new FakeStdout(...size);
  const stdin = new FakeStdin();
  let quits = 0;
  const app = render(
    <DashboardScreen
      sample={sample}
      intervalMs={50}
      onQuit={() => (quits += 1)}
      {...(extras ? { extras } : {})}
    />,
    fakeTerminalOptions(stdout, stdin),
  );
  cleanup = () => app.unmount();
  return { stdout, stdin, quits: () => quits };
}

describe('DashboardScreen', () => {
  for (const [cols, rows] of [
    [80, 24],
    [120, 40],
  ] as const) {
    it(`fits a ${cols}x${rows} terminal and shows every section`, async () => {
      const t = mount(
        [cols, rows],
        async () => snapshot(),
        () => ({
          processes: [
            { name: 'frontend', state: 'up', pid: 1, restarts: 0 },
            { name: 'notify', state: 'restarting', pid: undefined, restarts: 2 },
          ],
          demo: 'running: sent 100, 2xx 100 (400 readings)',
        }),
      );
      await waitFor(() => t.stdout.last().includes('D0000001'));
      const frame = t.stdout.last();
      const lines = frame.split('\n');
      expect(lines.length).toBeLessThanOrEqual(rows);
      for (const l of lines) expect(l.length).toBeLessThanOrEqual(cols);
      expect(frame).toMatch(/FRONTEND 127\.0\.0\.1:8080 UP ready {2}non-2xx 0\/s \(3 total\)/);
      expect(frame).toMatch(
        /requests 20\/s\s+readings 79\/s\s+confirm p50 3\.2ms p99 11ms\s+in-flight 0/,
      );
      expect(frame).toMatch(
        /DISPATCHER 127\.0\.0\.1:8081 UP running · messages-first · maintainer alive/,
      );
      expect(frame).toMatch(
        /queues 40 {2}busy 14 {2}idle 13 {2}empty 13 {2}paused 1 {2}messages 33k {2}consumers 14/,
      );
      // Consumers parked in a long-poll, where the line has room for them.
      if (cols >= 100) expect(frame).toMatch(/consumers 14 {2}waiting 2/);
      expect(frame).toMatch(/rows stored 316\/s/);
      expect(frame).toMatch(/alerts failed 2/);
      expect(frame).toMatch(/PROCESSES 1\/2 up/);
      expect(frame).toContain('DEMO running');
      expect(frame).toMatch(/QUEUE\s+STATE\s+READY\s+UNACKED\s+TOTAL\s+CONSUMER\s+LEASE/);
      expect(frame).toMatch(/D0000001\s+busy\s+1\.0k\s+50\s+1\.1k\s+host-a:1000\/0\s+1s/);
      expect(frame).toMatch(/more \(deepest first\)/);
    });
  }

  it('shows DOWN components with their reason and never throws', async () => {
    let calls = 0;
    const t = mount([80, 24], async () => {
      calls += 1;
      if (calls === 2) throw new Error('boom');
      return snapshot({
        frontend: { ok: false, error: 'connection refused' },
        dispatcher: { ok: false, error: 'no answer within 2000 ms' },
        storage: { ok: false, error: 'database "x" does not exist' },
      });
    });
    await waitFor(() => t.stdout.last().includes('poll failed: boom'));
    await waitFor(() => calls >= 3 && !t.stdout.last().includes('poll failed'));
    const frame = t.stdout.last();
    expect(frame).toContain('FRONTEND 127.0.0.1:8080 DOWN connection refused');
    expect(frame).toContain('DISPATCHER 127.0.0.1:8081 DOWN no answer within 2000 ms');
    expect(frame).toContain('STORAGE DOWN database "x" does not exist');
    expect(frame).toContain('queues: dispatcher DOWN');
  });

  it('p pauses refreshing, q quits', async () => {
    let calls = 0;
    const t = mount([80, 24], async () => {
      calls += 1;
      return snapshot();
    });
    await waitFor(() => calls >= 2);
    t.stdin.press('p');
    await waitFor(() => t.stdout.last().includes('PAUSED'));
    const paused = calls;
    await new Promise((r) => setTimeout(r, 250));
    expect(calls).toBeLessThanOrEqual(paused + 1);
    t.stdin.press('p');
    await waitFor(() => calls > paused + 2);
    expect(t.quits()).toBe(0);
    t.stdin.press('q');
    await waitFor(() => t.quits() === 1);
  });
});
