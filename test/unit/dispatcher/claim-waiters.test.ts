/** Parking and waking long-polling consumers (pure logic, real timers). */
import { afterEach, describe, expect, it } from 'vitest';
import { createClaimWaiters, type ClaimWaiters } from '../../../src/dispatcher/claim-waiters.js';

let w: ClaimWaiters | undefined;
afterEach(() => {
  w?.close();
  w = undefined;
});

describe('claim waiters', () => {
  it('wake() releases every parked consumer; the size follows', async () => {
    const sizes: number[] = [];
    w = createClaimWaiters({ recheckMs: 60_000, onSize: (n) => sizes.push(n) });
    const g = w.generation();
    const a = w.wait(g, Date.now() + 5_000);
    const b = w.wait(g, Date.now() + 5_000);
    expect(w.size).toBe(2);
    w.wake();
    expect(await Promise.all([a, b])).toEqual(['woken', 'woken']);
    expect(w.size).toBe(0);
    expect(sizes).toEqual([1, 2, 1, 0]);
  });

  it('a wake between reading the generation and parking is not lost', async () => {
    w = createClaimWaiters({ recheckMs: 60_000 });
    const g = w.generation();
    w.wake(); // e.g. a hint applied while this consumer's claim was in flight
    const t0 = Date.now();
    expect(await w.wait(g, Date.now() + 5_000)).toBe('woken');
    expect(Date.now() - t0).toBeLessThan(50);
  });

  it('deadline, abort and close each end a wait with their own outcome', async () => {
    w = createClaimWaiters({ recheckMs: 60_000 });
    const t0 = Date.now();
    expect(await w.wait(w.generation(), Date.now() + 60)).toBe('deadline');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(55);
    expect(await w.wait(w.generation(), Date.now() - 1)).toBe('deadline');
    const gone = new AbortController();
    const p = w.wait(w.generation(), Date.now() + 5_000, gone.signal);
    gone.abort();
    expect(await p).toBe('aborted');
    const q = w.wait(w.generation(), Date.now() + 5_000);
    w.close();
    expect(await q).toBe('closed');
    expect(await w.wait(w.generation(), Date.now() + 5_000)).toBe('closed');
    expect(w.size).toBe(0);
  });

  it('while anyone waits, a periodic re-check wakes them (other replicas, maintainer counts)', async () => {
    w = createClaimWaiters({ recheckMs: 40 });
    const t0 = Date.now();
    expect(await w.wait(w.generation(), Date.now() + 5_000)).toBe('woken');
    expect(Date.now() - t0).toBeLessThan(500);
  });

  it('a consumer woken again and again still gets its deadline', async () => {
    w = createClaimWaiters({ recheckMs: 60_000 });
    // A busy dispatcher: something wakes the waiters every few milliseconds.
    const waker = setInterval(() => w!.wake(), 2);
    try {
      const deadline = Date.now() + 100;
      let rounds = 0;
      let outcome;
      do {
        const g = w.generation();
        await new Promise((r) => setTimeout(r, 3)); // a claim in flight
        outcome = await w.wait(g, deadline);
        rounds += 1;
      } while (outcome === 'woken' && rounds < 1_000);
      expect(outcome).toBe('deadline');
      expect(Date.now() - deadline).toBeLessThan(500);
    } finally {
      clearInterval(waker);
    }
  });
});
