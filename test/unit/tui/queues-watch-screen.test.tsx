import { render } from 'ink';
import { afterEach, describe, expect, it } from 'vitest';
import type { QueuesSnapshot } from '../../../src/admin/queues-status.js';
import { QueuesWatchScreen } from '../../../src/tui/queues-watch-screen.js';
import { FakeStdin, FakeStdout, fakeTerminalOptions, waitFor } from './fake-terminal.js';

function snapshot(): QueuesSnapshot {
  const row = (id: string, state: 'busy' | 'idle' | 'paused', total: number) => ({
    id,
    state,
    ready: total,
    unacked: 0,
    total,
    incomingPerSec: 12.5,
    deliverPerSec: 10,
    ackPerSec: 9.5,
    consumer: state === 'busy' ? 'vm:31170/1' : null,
    leaseAgeMs: state === 'busy' ? 2_000 : null,
    countsFrom: 'broker' as const,
    countedAt: null,
  });
  return {
    at: new Date().toISOString(),
    dispatcherUrl: 'http://127.0.0.1:8081',
    dispatcher: {
      state: 'running',
      strategy: 'messages-first',
      effectiveStrategy: 'messages-first',
      fallback: false,
      maintainer: { alive: true, lastHeartbeat: null, ageMs: 1_000, staleAfterMs: 30_000 },
      leaseTimeoutMs: 60_000,
    },
    rows: [row('D0000002', 'idle', 5), row('D0000001', 'busy', 300), row('X0000009', 'paused', 50)],
    rates: { source: 'management' },
  };
}

let unmount: (() => void) | undefined;
afterEach(() => unmount?.());

describe('QueuesWatchScreen', () => {
  it('shows the queues table with rates within 80 columns, filtered, sortable with s', async () => {
    const stdout = new FakeStdout(80, 24);
    const stdin = new FakeStdin();
    let quit = false;
    const app = render(
      <QueuesWatchScreen
        sample={async () => snapshot()}
        intervalMs={50}
        sort="depth"
        filter="d000"
        onQuit={() => (quit = true)}
      />,
      fakeTerminalOptions(stdout, stdin),
    );
    unmount = () => app.unmount();
    await waitFor(() => stdout.last().includes('D0000001'));
    let frame = stdout.last();
    for (const line of frame.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    expect(frame).toMatch(
      /QUEUE\s+STATE\s+READY\s+UNACKED\s+TOTAL\s+IN\/S\s+DELIV\/S\s+ACK\/S\s+CONSUMER\s+LEASE/,
    );
    expect(frame).toMatch(
      /D0000001\s+busy\s+300\s+0\s+300\s+13\/s\s+10\/s\s+9\.5\/s\s+vm:31170\/1\s+2s/,
    );
    expect(frame).not.toContain('X0000009');
    expect(frame).toContain('running · messages-first · maintainer alive');
    expect(frame.indexOf('D0000001')).toBeLessThan(frame.indexOf('D0000002'));
    stdin.press('s');
    await waitFor(() => stdout.last().includes('sort name'));
    frame = stdout.last();
    expect(frame.indexOf('D0000002')).toBeGreaterThan(frame.indexOf('D0000001'));
    stdin.press('s');
    await waitFor(() => stdout.last().includes('sort state'));
    stdin.press('q');
    await waitFor(() => quit);
  });

  it('says DOWN and keeps the last sample when the dispatcher stops answering', async () => {
    const stdout = new FakeStdout(80, 24);
    let calls = 0;
    const app = render(
      <QueuesWatchScreen
        sample={async () => {
          calls += 1;
          if (calls > 1) throw new Error('dispatcher unreachable at http://127.0.0.1:8081');
          return snapshot();
        }}
        intervalMs={50}
        sort="depth"
        onQuit={() => undefined}
      />,
      fakeTerminalOptions(stdout),
    );
    unmount = () => app.unmount();
    await waitFor(() => stdout.last().includes('DOWN'));
    expect(stdout.last()).toContain(
      'DOWN: dispatcher unreachable at http://127.0.0.1:8081 (showing the last sample)',
    );
    expect(stdout.last()).toContain('D0000001');
  });
});
