/**
 * The consumer loop's pacing, with a stand-in dispatcher and drain (pure logic):
 * a worker that keeps finding empty queues gives its queue back and pauses,
 * instead of cycling through known-empty queues as fast as the broker answers.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startConsumerLoop, type ConsumerLoop } from '../../../src/consumer/consumer-loop.js';
import type { DrainResult } from '../../../src/consumer/queue-drainer.js';
import { silentLogger } from '../../../src/core/logger.js';
import { IngestError } from '../../../src/core/errors.js';
import { captureLogs } from '../../helpers/log-capture.js';

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

describe('consumer loop with a long-polling dispatcher', () => {
  /** A dispatcher that holds every "next" for its wait, then answers 204 (nothing came). */
  function waitingStandIn() {
    const asks: Array<{ at: number; wait: number | undefined }> = [];
    let abandoned = 0;
    const dispatcher = {
      next(req: { wait?: number }, o: { signal?: AbortSignal } = {}) {
        asks.push({ at: Date.now(), wait: req.wait });
        return new Promise<null>((resolve, reject) => {
          const t = setTimeout(() => resolve(null), req.wait ?? 0);
          o.signal?.addEventListener('abort', () => {
            clearTimeout(t);
            abandoned += 1;
            reject(new Error('request abandoned'));
          });
        });
      },
      async release() {},
      async renew() {
        return { expiresAt: '' };
      },
    };
    return { asks, dispatcher, abandoned: () => abandoned };
  }

  it('asks again at once after a wait that ran its course (no idle sleep on top)', async () => {
    vi.useFakeTimers();
    try {
      const s = waitingStandIn();
      loop = startConsumerLoop(
        {
          dispatcher: s.dispatcher,
          drain: async () => ({ messages: 0, values: 0, empty: true }),
          logger: silentLogger(),
          name: 'c',
        },
        { ...opts, idlePollMs: 100, waitMs: 120, emptyPauseMs: 0 },
      );
      await vi.advanceTimersByTimeAsync(650);
      expect(s.asks.every((a) => a.wait === 120)).toBe(true);
      // Asks at 0, 120, ..., 600 ms. With the idle back-off (100, 200, 400 ms) on top of
      // each wait there would be three.
      expect(s.asks.map((a) => a.at - s.asks[0]!.at)).toEqual([0, 120, 240, 360, 480, 600]);
      const stopping = loop.stop();
      await vi.advanceTimersByTimeAsync(200);
      await stopping;
      loop = undefined;
    } finally {
      vi.useRealTimers();
    }
  });

  it('a grant that comes back while stopping is given back untouched, not drained', async () => {
    const releases: Array<{ queue: string; empty: boolean | undefined }> = [];
    let drains = 0;
    let asked!: () => void;
    const askedOnce = new Promise<void>((r) => (asked = r));
    const dispatcher = {
      // The answer is on its way (a plain claim takes a few ms, less than a parked wait).
      async next() {
        asked();
        await new Promise((r) => setTimeout(r, 40));
        return { queue: 'Q1', lease: 'L1', expiresAt: '' };
      },
      async release(queue: string, req: { empty?: boolean }) {
        releases.push({ queue, empty: req.empty });
      },
      async renew() {
        return { expiresAt: '' };
      },
    };
    loop = startConsumerLoop(
      {
        dispatcher,
        drain: async () => {
          drains += 1;
          return { messages: 1, values: 2, empty: false };
        },
        logger: silentLogger(),
        name: 'c',
      },
      { ...opts, waitMs: 2_000, emptyPauseMs: 0 },
    );
    await askedOnce;
    await loop.stop();
    loop = undefined;
    expect(drains).toBe(0);
    expect(releases).toEqual([{ queue: 'Q1', empty: false }]);
  });

  it('stop() abandons the wait in flight at once, without reporting the dispatcher unreachable', async () => {
    const s = waitingStandIn();
    const states: string[] = [];
    loop = startConsumerLoop(
      {
        dispatcher: s.dispatcher,
        drain: async () => ({ messages: 0, values: 0, empty: true }),
        logger: silentLogger(),
        name: 'c',
        onDispatcherState: (st) => states.push(st),
      },
      { ...opts, waitMs: 10_000, emptyPauseMs: 0 },
    );
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await loop.stop();
    loop = undefined;
    expect(Date.now() - t0).toBeLessThan(500);
    expect(s.abandoned()).toBe(1);
    expect(states).not.toContain('unreachable');
  });
});

describe('consumer loop --once: what keeps it from finishing is reported, not swallowed', () => {
  const failing = (code: 'DISPATCHER_UNREACHABLE' | 'DISPATCHER_STOPPED') => ({
    next: () => Promise.reject(new IngestError(code, 'connect ECONNREFUSED 127.0.0.1:1')),
    release: () => Promise.resolve(),
    renew: () => Promise.resolve({ expiresAt: '' }),
  });

  it.each([
    ['DISPATCHER_UNREACHABLE', 'unreachable'],
    ['DISPATCHER_STOPPED', 'stopped'],
  ] as const)('gives up when the dispatcher fails (%s) for giveUpAfterMs', async (code, reason) => {
    const t0 = Date.now();
    loop = startConsumerLoop(
      {
        dispatcher: failing(code),
        drain: () => Promise.reject(new Error('never called')),
        logger: silentLogger(),
        name: 'c',
      },
      { ...opts, concurrency: 2, once: true, emptyPauseMs: 0, giveUpAfterMs: 300 },
    );
    await loop.done;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(loop.problems()).toEqual({
      gaveUp: { reason, error: 'connect ECONNREFUSED 127.0.0.1:1' },
      failedQueues: [],
    });
  });

  it('without once it never gives up', async () => {
    loop = startConsumerLoop(
      {
        dispatcher: failing('DISPATCHER_UNREACHABLE'),
        drain: () => Promise.reject(new Error('never called')),
        logger: silentLogger(),
        name: 'c',
      },
      { ...opts, emptyPauseMs: 0, giveUpAfterMs: 100 },
    );
    const ended = await Promise.race([
      loop.done.then(() => true),
      new Promise((r) => setTimeout(() => r(false), 400)),
    ]);
    expect(ended).toBe(false);
    expect(loop.problems().gaveUp).toBeUndefined();
  });

  it('gives up when every drain fails for giveUpAfterMs (the database away), naming the queue', async () => {
    const dispatcher = {
      next: () => Promise.resolve({ queue: 'A', lease: 'L', expiresAt: '' }),
      release: () => Promise.resolve(),
      renew: () => Promise.resolve({ expiresAt: '' }),
    };
    const t0 = Date.now();
    loop = startConsumerLoop(
      {
        dispatcher,
        drain: () => Promise.reject(new Error('database "nodb" does not exist')),
        logger: silentLogger(),
        name: 'c',
      },
      { ...opts, once: true, emptyPauseMs: 0, giveUpAfterMs: 400 },
    );
    await loop.done;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    expect(Date.now() - t0).toBeLessThan(8_000);
    expect(loop.problems()).toEqual({
      gaveUp: { reason: 'drains', error: 'database "nodb" does not exist' },
      failedQueues: [{ queue: 'A', error: 'database "nodb" does not exist' }],
    });
  });

  it('names the queues whose last drain failed; a later good drain of a queue clears it', async () => {
    const grants = ['A', 'B', 'A'];
    const dispatcher = {
      next: () => {
        const q = grants.shift();
        return Promise.resolve(q ? { queue: q, lease: `L-${q}`, expiresAt: '' } : null);
      },
      release: () => Promise.resolve(),
      renew: () => Promise.resolve({ expiresAt: '' }),
    };
    let drains = 0;
    // A fails, B fails, A then works: B is the one left undrained.
    const drain = (): Promise<DrainResult> =>
      ++drains < 3
        ? Promise.reject(new Error(`database "nodb" does not exist (${drains})`))
        : Promise.resolve({ messages: 1, values: 2, empty: true });
    loop = startConsumerLoop(
      { dispatcher, drain, logger: silentLogger(), name: 'c' },
      { ...opts, once: true, emptyPauseMs: 0 },
    );
    await loop.done;
    expect(loop.problems()).toEqual({
      failedQueues: [{ queue: 'B', error: 'database "nodb" does not exist (2)' }],
    });
  });
});

describe('consumer loop logging: one line per change of the dispatcher state', () => {
  it('a failing dispatcher (its own 5xx) is logged once, then "reachable again"; a stop then start says "again"', async () => {
    const { logger, lines: logged } = captureLogs('info');
    // Scripted answers: 3 failures of the dispatcher itself, a grant, a stop, then grants.
    const script: Array<'fail' | 'stopped' | 'grant'> = [
      ...Array<'fail'>(3).fill('fail'),
      'grant',
      'stopped',
      'stopped',
    ];
    let asks = 0;
    const dispatcher = {
      next: () => {
        const step = script[asks++] ?? 'grant';
        if (step === 'fail')
          return Promise.reject(
            new IngestError('DATABASE_UNAVAILABLE', 'registry database: connection refused'),
          );
        if (step === 'stopped')
          return Promise.reject(new IngestError('DISPATCHER_STOPPED', 'stopped'));
        return Promise.resolve({ queue: 'A', lease: `L${asks}`, expiresAt: '' });
      },
      release: () => Promise.resolve(),
      renew: () => Promise.resolve({ expiresAt: '' }),
    };
    loop = startConsumerLoop(
      {
        dispatcher,
        drain: async () => {
          await new Promise((r) => setImmediate(r));
          return { messages: 1, values: 1, empty: false };
        },
        logger,
        name: 'c',
      },
      { ...opts, emptyPauseMs: 0 },
    );
    const until = Date.now() + 20_000;
    while (asks < script.length + 2 && Date.now() < until)
      await new Promise((r) => setTimeout(r, 20));
    await loop.stop();
    loop = undefined;
    const lines = logged.map((l) => l.msg);
    expect(lines.filter((l) => l.startsWith('dispatcher failing'))).toHaveLength(1);
    expect(lines).not.toContain('queue/next failed');
    expect(lines.filter((l) => l === 'dispatcher reachable again')).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('dispatcher stopped'))).toHaveLength(1);
    expect(lines.filter((l) => l === 'dispatcher handing out queues again')).toHaveLength(1);
  }, 30_000);
});
