/** The publish-hint pump's bookkeeping, with stand-ins for Redis and the registry (pure logic). */
import { afterEach, describe, expect, it } from 'vitest';
import { startHintPump, type HintPump } from '../../../src/dispatcher/hint-pump.js';
import { silentLogger } from '../../../src/core/logger.js';

let pump: HintPump | undefined;
afterEach(async () => {
  await pump?.close();
  pump = undefined;
});

describe('publish hint pump', () => {
  it('hints taken while the registry is away are applied on the next pass, not lost', async () => {
    const set = ['A', 'B'];
    const marked: string[][] = [];
    let registryUp = false;
    pump = startHintPump({
      pop: async (max) => set.splice(0, max),
      mark: async (q) => {
        if (!registryUp) throw new Error('registry down');
        marked.push(q);
        return { marked: q.length, busy: [] };
      },
      logger: silentLogger(),
      intervalMs: 60_000,
    });
    await expect(pump.runOnce()).rejects.toThrow('registry down');
    expect(set).toEqual([]); // taken from Redis...
    registryUp = true;
    expect(await pump.runOnce()).toBe(2); // ...and applied once the registry is back
    expect(marked).toEqual([['A', 'B']]);
    expect(await pump.runOnce()).toBe(0);
  });

  it('runs on its interval, at once again after a full batch, and stops at close()', async () => {
    const set = Array.from({ length: 2_500 }, (_, i) => `Q${i}`);
    const batches: number[] = [];
    pump = startHintPump({
      pop: async (max) => set.splice(0, max),
      mark: async (q) => {
        batches.push(q.length);
        return { marked: q.length, busy: [] };
      },
      logger: silentLogger(),
      intervalMs: 30,
    });
    const deadline = Date.now() + 2_000;
    while (set.length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(batches.slice(0, 3)).toEqual([1_000, 1_000, 500]);
    await pump.close();
    set.push('LATE');
    await new Promise((r) => setTimeout(r, 100));
    expect(set).toEqual(['LATE']);
  });

  it('queues a claim held at that moment are hinted again on the next pass, with new hints', async () => {
    const set = ['A', 'B', 'C'];
    const calls: string[][] = [];
    const held = new Set(['B']);
    pump = startHintPump({
      pop: async (max) => set.splice(0, max),
      mark: async (q) => {
        calls.push(q);
        return { marked: q.filter((x) => !held.has(x)).length, busy: q.filter((x) => held.has(x)) };
      },
      logger: silentLogger(),
      intervalMs: 60_000,
    });
    expect(await pump.runOnce()).toBe(2);
    held.clear();
    set.push('D', 'B');
    expect(await pump.runOnce()).toBe(2); // B once, though carried and hinted again
    expect(calls).toEqual([
      ['A', 'B', 'C'],
      ['B', 'D'],
    ]);
    expect(await pump.runOnce()).toBe(0);
  });

  it('poke() applies a hint at once, and a hint added during a pass gets a pass of its own', async () => {
    const set: string[] = [];
    const marked: string[][] = [];
    let release: (() => void) | undefined;
    pump = startHintPump({
      pop: async (max) => set.splice(0, max),
      mark: async (q) => {
        // The first pass is slow: a hint arrives while it runs.
        if (marked.length === 0) await new Promise<void>((r) => (release = r));
        marked.push(q);
        return { marked: q.length, busy: [] };
      },
      logger: silentLogger(),
      intervalMs: 60_000,
    });
    set.push('A');
    pump.poke();
    await new Promise((r) => setTimeout(r, 20));
    set.push('B');
    pump.poke(); // joins the pass in flight, which took only A
    release!();
    const deadline = Date.now() + 2_000;
    while (marked.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(marked).toEqual([['A'], ['B']]);
  });

  it('poke() after close() pops nothing (hints popped then could not be applied)', async () => {
    let pops = 0;
    pump = startHintPump({
      pop: async () => {
        pops += 1;
        return [];
      },
      mark: async (q) => ({ marked: q.length, busy: [] }),
      logger: silentLogger(),
      intervalMs: 60_000,
    });
    await pump.close();
    pump.poke();
    await new Promise((r) => setTimeout(r, 20));
    expect(pops).toBe(0);
  });
});
