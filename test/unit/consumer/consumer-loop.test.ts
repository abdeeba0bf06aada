/**
 * The consumer loop's pacing, with a stand-in dispatcher and drain (pure logic):
 * a worker that keeps finding empty queues gives its queue back and pauses,
 * instead of cycling through known-empty queues as fast as the broker answers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startConsumerLoop, type ConsumerLoop } from '../../../src/consumer/consumer-loop.js';
import type { DrainResult } from '../../../src/consumer/queue-drainer.js';
import { silentLogger } from '../../../src/core/logger.js';

interface Call {
  kind: 'next' | 'release';
  at: number;
  release?: string;
}

function standIn(drainResult: (n: number) => DrainResult) {
  const calls: Call[] = [];
  let drains = 0;
  let leases = 0;
  const dispatcher = {
    async next(req: { consumer: string; release?: string }) {
      calls.push({
        kind: 'next',
        at: Date.now(),
        ...(req.release ? { release: req.release } : {}),
      });
      leases += 1;
      return { queue: `Q${leases % 3}`, lease: `L${leases}`, expiresAt: '' };
    },
    async release(queue: string) {
      calls.push({ kind: 'release', at: Date.now(), release: queue });
    },
    async renew() {
      return { expiresAt: '' };
    },
  };
  // A real drain takes I/O; yielding to the event loop keeps the test's timers running.
  const drain = async (): Promise<DrainResult> => {
    await new Promise((r) => setImmediate(r));
    return drainResult(drains++);
  };
  return { calls, dispatcher, drain };
}

let loop: ConsumerLoop | undefined;
afterEach(async () => {
  await loop?.stop();
  loop = undefined;
});

const opts = { concurrency: 1, once: false, renewEveryMs: 10_000, idlePollMs: 50 };

function start(s: ReturnType<typeof standIn>, emptyPauseMs: number): ConsumerLoop {
  return startConsumerLoop(
    { dispatcher: s.dispatcher, drain: s.drain, logger: silentLogger(), name: 'c' },
    { ...opts, emptyPauseMs },
  );
}

describe('consumer loop pacing', () => {
  it('after two empty queues in a row, gives the queue back and pauses (doubling)', async () => {
    const s = standIn(() => ({ messages: 0, values: 0, empty: true }));
    loop = start(s, 40);
    await new Promise((r) => setTimeout(r, 400));
    const nexts = s.calls.filter((c) => c.kind === 'next').length;
    const releases = s.calls.filter((c) => c.kind === 'release');
    // Without the pause this is thousands of leases; with it: 2 quick ones, then 40, 80, 160 ms pauses.
    expect(nexts).toBeGreaterThanOrEqual(3);
    expect(nexts).toBeLessThanOrEqual(7);
    expect(releases.length).toBeGreaterThanOrEqual(1);
    // A pause follows the explicit release, and the next request gives nothing back.
    const firstRelease = s.calls.findIndex((c) => c.kind === 'release');
    const after = s.calls[firstRelease + 1];
    expect(after?.kind).toBe('next');
    expect(after?.release).toBeUndefined();
    expect(after!.at - s.calls[firstRelease]!.at).toBeGreaterThanOrEqual(35);
  });

  it('keeps going without pauses while queues have messages', async () => {
    const s = standIn(() => ({ messages: 1, values: 2, empty: true }));
    loop = start(s, 40);
    await new Promise((r) => setTimeout(r, 100));
    expect(s.calls.filter((c) => c.kind === 'release')).toHaveLength(0);
    expect(s.calls.filter((c) => c.kind === 'next').length).toBeGreaterThan(20);
  });

  it('a non-empty drain resets the streak', async () => {
    // empty, empty (pause), data, empty, empty (pause) ...
    const s = standIn((n) =>
      n % 3 === 2
        ? { messages: 1, values: 2, empty: false }
        : { messages: 0, values: 0, empty: true },
    );
    loop = start(s, 30);
    await new Promise((r) => setTimeout(r, 250));
    const releases = s.calls.filter((c) => c.kind === 'release').length;
    // Every pause stays at the base length, so there are several of them.
    expect(releases).toBeGreaterThanOrEqual(3);
  });
});

describe('consumer loop with many workers', () => {
  it('runs 32 workers on one stop signal without a MaxListeners warning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w.name);
    };
    process.on('warning', onWarning);
    try {
      const s = standIn(() => ({ messages: 1, values: 2, empty: false }));
      loop = startConsumerLoop(
        { dispatcher: s.dispatcher, drain: s.drain, logger: silentLogger(), name: 'c' },
        { ...opts, concurrency: 32, emptyPauseMs: 0 },
      );
      await new Promise((r) => setTimeout(r, 100));
      await loop.stop();
      loop = undefined;
      // Warnings are emitted on the next tick.
      await new Promise((r) => setImmediate(r));
      expect(s.calls.filter((c) => c.kind === 'next').length).toBeGreaterThan(32);
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});
