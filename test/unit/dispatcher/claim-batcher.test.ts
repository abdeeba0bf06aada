/** The coalescing of concurrent next requests (pure logic: a fake registry records the batches). */
import { describe, expect, it } from 'vitest';
import { createClaimBatcher } from '../../../src/dispatcher/claim-batcher.js';
import type { BatchItem, BatchResult, QueueRegistry } from '../../../src/registry/registry.js';

function fakeRegistry(opts: { fail?: boolean } = {}) {
  const batches: BatchItem[][] = [];
  const releases: Array<() => void> = [];
  const registry = {
    async claimBatch(items: readonly BatchItem[]): Promise<BatchResult[]> {
      batches.push([...items]);
      await new Promise<void>((r) => releases.push(r));
      if (opts.fail) throw new Error('db down');
      return items.map((i) => ({
        lease: { queue: `Q-${i.consumer}`, lease: `L-${i.consumer}`, expiresAt: new Date(0) },
      }));
    },
  } as unknown as QueueRegistry;
  return { registry, batches, releases };
}

const current = async () => ({ strategy: 'fifo' as const, leaseMs: 1000 });

describe('claim batcher', () => {
  it('a lone request goes out at once; requests arriving meanwhile share the next statement', async () => {
    const f = fakeRegistry();
    const b = createClaimBatcher({ registry: f.registry, current, maxInFlight: 1, maxBatch: 3 });
    const first = b.submit({ consumer: 'a' });
    await new Promise((r) => setImmediate(r));
    expect(f.batches.map((x) => x.map((i) => i.consumer))).toEqual([['a']]);
    const rest = ['b', 'c', 'd', 'e'].map((c) => b.submit({ consumer: c }));
    f.releases.shift()!();
    expect((await first).lease?.queue).toBe('Q-a');
    await new Promise((r) => setImmediate(r));
    expect(f.batches.map((x) => x.map((i) => i.consumer))).toEqual([['a'], ['b', 'c', 'd']]);
    f.releases.shift()!();
    await new Promise((r) => setImmediate(r));
    f.releases.shift()!();
    const results = await Promise.all(rest);
    // Each request gets its own result, in order.
    expect(results.map((r) => r.lease?.queue)).toEqual(['Q-b', 'Q-c', 'Q-d', 'Q-e']);
    expect(f.batches.map((x) => x.length)).toEqual([1, 3, 1]);
  });

  it('up to maxInFlight statements at once', async () => {
    const f = fakeRegistry();
    const b = createClaimBatcher({ registry: f.registry, current, maxInFlight: 2 });
    const all = ['a', 'b', 'c'].map((c) => b.submit({ consumer: c }));
    await new Promise((r) => setImmediate(r));
    expect(f.batches.map((x) => x.map((i) => i.consumer))).toEqual([['a'], ['b']]);
    while (f.releases.length) {
      f.releases.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    expect((await Promise.all(all)).map((r) => r.lease?.queue)).toEqual(['Q-a', 'Q-b', 'Q-c']);
  });

  it('a failed statement fails every request in its batch, and later ones still go out', async () => {
    const f = fakeRegistry({ fail: true });
    const b = createClaimBatcher({ registry: f.registry, current, maxInFlight: 1 });
    const p = [b.submit({ consumer: 'a' }), b.submit({ consumer: 'b' })];
    await new Promise((r) => setImmediate(r));
    f.releases.shift()!();
    await expect(p[0]).rejects.toThrow('db down');
    await new Promise((r) => setImmediate(r));
    f.releases.shift()!();
    await expect(p[1]).rejects.toThrow('db down');
    expect(f.batches).toHaveLength(2);
  });
});
