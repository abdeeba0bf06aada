/**
 * The registry contract, run against every backend: the same behaviour from
 * PostgreSQL and MongoDB. `make` opens two independent clients on one fresh store.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { setTimeout as delay } from 'node:timers/promises';
import type { QueueRegistry, Strategy } from '../../../src/registry/registry.js';
import { displayState } from '../../../src/registry/registry.js';

export interface ContractStore {
  a: QueueRegistry;
  b: QueueRegistry;
  cleanup(): Promise<void>;
}

const LEASE = 30_000;

async function reset(r: QueueRegistry, ids: string[]): Promise<void> {
  for (const e of await r.list()) await r.remove(e.id);
  await r.upsertFromAccounts(ids);
  await r.setStopped(false);
}

async function claimAll(r: QueueRegistry, strategy: Strategy, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const l = await r.claimNext({ consumer: 'c', strategy, leaseMs: LEASE });
    if (!l) break;
    out.push(l.queue);
  }
  return out;
}

export function registryContract(make: () => Promise<ContractStore>): void {
  let store: ContractStore;
  let r: QueueRegistry;
  beforeAll(async () => {
    store = await make();
    r = store.a;
  });
  afterAll(async () => {
    await store?.cleanup();
  });

  describe('accounts -> entries', () => {
    it('creates, flags deleted, restores', async () => {
      await reset(r, []);
      const first = await r.upsertFromAccounts(['A1', 'A2', 'A3']);
      expect(first.created.sort()).toEqual(['A1', 'A2', 'A3']);
      expect(first.deleted).toEqual([]);
      const again = await r.upsertFromAccounts(['A1', 'A2', 'A3']);
      expect(again).toEqual({ created: [], restored: [], deleted: [] });
      const gone = await r.upsertFromAccounts(['A1', 'A3']);
      expect(gone.deleted).toEqual(['A2']);
      const a2 = await r.get('A2');
      expect(a2?.deleted).toBe(true);
      expect(a2?.deletedAt).toBeInstanceOf(Date);
      expect(displayState(a2!)).toBe('deleted');
      const back = await r.upsertFromAccounts(['A1', 'A2', 'A3']);
      expect(back.restored).toEqual(['A2']);
      expect((await r.get('A2'))?.deleted).toBe(false);
      expect(await r.markDeleted(['A3', 'NOPE'])).toEqual(['A3']);
      expect((await r.list()).map((e) => e.id)).toEqual(['A1', 'A2', 'A3']);
    });
  });

  describe('claims', () => {
    it('fifo: never-served first, then the one served longest ago', async () => {
      await reset(r, ['Q1', 'Q2', 'Q3']);
      const order = await claimAll(r, 'fifo', 3);
      expect(order).toEqual(['Q1', 'Q2', 'Q3']);
      expect(await r.claimNext({ consumer: 'c', strategy: 'fifo', leaseMs: LEASE })).toBeNull();
      const q2 = (await r.get('Q2'))!;
      expect(await r.release('Q2', q2.leaseId!)).toBe('released');
      await delay(5);
      const q1 = (await r.get('Q1'))!;
      expect(await r.release('Q1', q1.leaseId!)).toBe('released');
      // Served = handed out: Q1 went out before Q2, whatever order they came back in.
      expect(await claimAll(r, 'fifo', 2)).toEqual(['Q1', 'Q2']);
      const again = (await r.get('Q3'))!;
      await r.release('Q3', again.leaseId!);
      expect(await claimAll(r, 'fifo', 1)).toEqual(['Q3']);
    });

    it('messages-first: queues with messages first, known-empty last', async () => {
      await reset(r, ['M1', 'M2', 'M3']);
      await r.updateCounts([
        { id: 'M1', ready: 0, unacked: 0 },
        { id: 'M2', ready: 5, unacked: 1 },
        { id: 'M3', ready: 0, unacked: 0 },
      ]);
      const m2 = (await r.get('M2'))!;
      expect(m2).toMatchObject({
        messageCount: 6,
        readyCount: 5,
        unackedCount: 1,
        hasMessages: true,
      });
      expect(displayState((await r.get('M1'))!)).toBe('empty');
      expect(await claimAll(r, 'messages-first', 3)).toEqual(['M2', 'M1', 'M3']);
    });

    it('publish hints: hinted queues go first; a hint during a lease or after counting began outlives "empty"', async () => {
      await reset(r, ['H1', 'H2', 'H3']);
      const zero = (id: string) => ({ id, ready: 0, unacked: 0 });
      await r.updateCounts([zero('H1'), zero('H2'), zero('H3')]);
      expect(await r.markHasMessages(['H3', 'NOPE'])).toEqual({ marked: 1, busy: [] });
      expect((await r.get('H3'))?.hintedAt).toBeInstanceOf(Date);
      expect(await claimAll(r, 'messages-first', 1)).toEqual(['H3']);
      // A hint while H1 is leased: the consumer may have looked before that message came.
      const l1 = (await r.claimNext({ consumer: 'c', strategy: 'fifo', leaseMs: LEASE }))!;
      expect(l1.queue).toBe('H1');
      await delay(5);
      await r.markHasMessages(['H1']);
      expect(await r.release('H1', l1.lease, { empty: true })).toBe('released');
      expect((await r.get('H1'))?.hasMessages).toBe(true);
      // No hint during the lease: "empty" holds.
      const l2 = (await r.claimNext({ consumer: 'c', strategy: 'fifo', leaseMs: LEASE }))!;
      expect(l2.queue).toBe('H2');
      expect(await r.release('H2', l2.lease, { empty: true })).toBe('released');
      expect((await r.get('H2'))?.hasMessages).toBe(false);
      // Counts that began before the hint (H1's) do not clear it; counts begun later do.
      await r.updateCounts([zero('H1')], { countedSince: new Date(Date.now() - 5_000) });
      expect((await r.get('H1'))?.hasMessages).toBe(true);
      await r.updateCounts([zero('H1')], { countedSince: new Date(Date.now() + 5_000) });
      expect((await r.get('H1'))?.hasMessages).toBe(false);
      // Deleted queues take no hints.
      await r.markDeleted(['H2']);
      expect(await r.markHasMessages(['H2'])).toEqual({ marked: 0, busy: [] });
    });

    it('withMessages: only queues known to hold messages, in strategy order; batches too', async () => {
      await reset(r, ['N1', 'N2', 'N3', 'N4']);
      const zero = (id: string) => ({ id, ready: 0, unacked: 0 });
      await r.updateCounts([
        zero('N1'),
        { id: 'N2', ready: 3, unacked: 0 },
        zero('N3'),
        zero('N4'),
      ]);
      await r.markHasMessages(['N4']);
      const only = { consumer: 'c', strategy: 'messages-first' as const, leaseMs: LEASE };
      const first = await r.claimNext({ ...only, withMessages: true });
      expect(first?.queue).toBe('N2');
      const batch = await r.claimBatch([{ consumer: 'a' }, { consumer: 'b' }], {
        strategy: 'messages-first',
        leaseMs: LEASE,
        withMessages: true,
      });
      // N4 (hinted) is the one left with messages; N1 and N3 are known empty.
      expect(batch.map((b) => b.lease?.queue ?? null)).toEqual(['N4', null]);
      expect(await r.claimNext({ ...only, withMessages: true })).toBeNull();
      // Without the filter the known-empty ones still go out.
      expect((await r.claimNext(only))?.queue).toBe('N1');
    });

    it('publish hints: a hint since the claim outlives "empty" even after a renewal', async () => {
      await reset(r, ['R1']);
      await r.updateCounts([{ id: 'R1', ready: 0, unacked: 0 }]);
      const l = (await r.claimNext({ consumer: 'c', strategy: 'fifo', leaseMs: LEASE }))!;
      await delay(5);
      await r.markHasMessages(['R1']);
      await delay(5);
      expect((await r.renew('R1', l.lease, LEASE)).ok).toBe(true);
      expect(await r.release('R1', l.lease, { empty: true })).toBe('released');
      expect((await r.get('R1'))?.hasMessages).toBe(true);
    });

    it('a claimed queue is busy with consumer and lease until released', async () => {
      await reset(r, ['B1']);
      const l = (await r.claimNext({ consumer: 'worker-7', strategy: 'fifo', leaseMs: LEASE }))!;
      expect(l.queue).toBe('B1');
      expect(l.expiresAt.getTime()).toBeGreaterThan(Date.now() + LEASE - 5_000);
      const e = (await r.get('B1'))!;
      expect(e).toMatchObject({ state: 'busy', consumer: 'worker-7', leaseId: l.lease });
      expect(displayState(e)).toBe('busy');
      expect(await r.release('B1', 'wrong-lease')).toBe('not-held');
      expect(await r.release('NOPE', l.lease)).toBe('not-found');
      expect(await r.release('B1', l.lease, { empty: true })).toBe('released');
      const after = (await r.get('B1'))!;
      expect(after).toMatchObject({
        state: 'idle',
        consumer: null,
        leaseId: null,
        hasMessages: false,
      });
      expect(displayState(after)).toBe('empty');
      expect(await r.release('B1', l.lease)).toBe('not-held');
    });

    it('renew extends a held lease; not when lost, paused or deleted', async () => {
      await reset(r, ['R1']);
      const l = (await r.claimNext({ consumer: 'c', strategy: 'fifo', leaseMs: 1_000 }))!;
      const renewed = await r.renew('R1', l.lease, 60_000);
      expect(renewed.ok).toBe(true);
      if (renewed.ok) expect(renewed.expiresAt.getTime()).toBeGreaterThan(l.expiresAt.getTime());
      expect(await r.renew('R1', 'other', 60_000)).toEqual({ ok: false, reason: 'not-held' });
      expect(await r.renew('NOPE', l.lease, 60_000)).toEqual({ ok: false, reason: 'not-found' });
      expect(await r.pause('R1')).toBe(true);
      expect(await r.renew('R1', l.lease, 60_000)).toEqual({ ok: false, reason: 'not-held' });
      // The holder may still give it back; it stays paused.
      expect(await r.release('R1', l.lease)).toBe('released');
      expect((await r.get('R1'))?.state).toBe('paused');
      await r.unpause('R1');
      const l2 = (await r.claimNext({ consumer: 'c', strategy: 'fifo', leaseMs: LEASE }))!;
      await r.markDeleted(['R1']);
      expect(await r.renew('R1', l2.lease, 60_000)).toEqual({ ok: false, reason: 'not-held' });
    });

    it('releaseAndClaim gives one back and claims another in one step', async () => {
      await reset(r, ['RC1', 'RC2']);
      const a = (await r.claimNext({ consumer: 'c', strategy: 'fifo', leaseMs: LEASE }))!;
      const req = { consumer: 'c', strategy: 'fifo' as const, leaseMs: LEASE };
      const b = await r.releaseAndClaim({ queue: a.queue, lease: a.lease, empty: true }, req);
      expect(b.released).toBe('released');
      expect(b.lease?.queue).toBe('RC2'); // not the queue just given back
      expect(await r.get('RC1')).toMatchObject({
        state: 'idle',
        hasMessages: false,
        leaseId: null,
      });
      // A lost lease is reported, and the consumer still gets its next queue.
      const c = await r.releaseAndClaim({ queue: 'RC1', lease: 'stale' }, req);
      expect(c.released).toBe('not-held');
      expect(c.lease?.queue).toBe('RC1');
      expect((await r.releaseAndClaim({ queue: 'NOPE', lease: 'x' }, req)).released).toBe(
        'not-found',
      );
      // The only claimable queue is the one given back: it goes straight back out.
      const alone = await r.releaseAndClaim({ queue: 'RC2', lease: b.lease!.lease }, req);
      expect(alone).toMatchObject({ released: 'released', lease: { queue: 'RC2' } });
      await r.release('RC1', c.lease!.lease);
      const c2 = (await r.releaseAndClaim({ queue: 'RC2', lease: alone.lease!.lease }, req)).lease!;
      expect(c2.queue).toBe('RC1');
      const cAgain = { lease: c2 };
      // Stopped: the release still happens, nothing is handed out.
      await r.setStopped(true);
      const d = await r.releaseAndClaim({ queue: 'RC1', lease: cAgain.lease.lease }, req);
      expect(d).toEqual({ released: 'released', lease: null });
      await r.setStopped(false);
    });

    it('claimBatch: one queue per request, give-backs first, results in request order', async () => {
      await reset(r, ['CB1', 'CB2', 'CB3', 'CBP']);
      await r.pause('CBP');
      const o = { strategy: 'fifo' as const, leaseMs: LEASE };
      const held = (await r.claimNext({ consumer: 'h', strategy: 'fifo', leaseMs: LEASE }))!;
      expect(held.queue).toBe('CB1');
      const res = await r.claimBatch(
        [
          { consumer: 'a' },
          { consumer: 'h', release: { queue: 'CB1', lease: held.lease, empty: true } },
          { consumer: 'b' },
          { consumer: 'c', release: { queue: 'CB2', lease: 'not-mine' } },
        ],
        o,
      );
      expect(res.map((x) => x.released)).toEqual([undefined, 'released', undefined, 'not-held']);
      const got = res.map((x) => x.lease?.queue ?? null);
      // CB2 and CB3 were idle; CB1 was given back in the same statement; CBP is paused.
      expect(got.filter(Boolean).sort()).toEqual(['CB2', 'CB3']);
      expect(new Set(res.map((x) => x.lease?.lease).filter(Boolean)).size).toBe(2);
      for (const x of res)
        if (x.lease) {
          const e = (await r.get(x.lease.queue))!;
          expect(e.leaseId).toBe(x.lease.lease);
        }
      expect(await r.get('CB1')).toMatchObject({ state: 'idle', hasMessages: false });
      expect(await r.claimBatch([], o)).toEqual([]);
      await r.setStopped(true);
      const stopped = await r.claimBatch([{ consumer: 'z' }], o);
      expect(stopped).toEqual([{ lease: null }]);
      await r.setStopped(false);
    });

    it('paused and deleted queues are never handed out; unpause makes a queue claimable', async () => {
      await reset(r, ['P1', 'P2', 'P3']);
      expect(await r.pause('P1')).toBe(true);
      expect(await r.pause('NOPE')).toBe(false);
      await r.markDeleted(['P2']);
      for (const s of ['fifo', 'messages-first'] as const) {
        const got = await claimAll(r, s, 5);
        expect(got).toEqual(['P3']);
        await r.release('P3', (await r.get('P3'))!.leaseId!);
      }
      expect(displayState((await r.get('P1'))!)).toBe('paused');
      expect(await r.unpause('P1')).toBe(true);
      expect(await r.unpause('NOPE')).toBe(false);
      expect((await claimAll(r, 'fifo', 5)).sort()).toEqual(['P1', 'P3']);
    });

    it('unpausing a queue whose holder is still inside its lease keeps it busy', async () => {
      await reset(r, ['U1']);
      const l = (await r.claimNext({ consumer: 'c', strategy: 'fifo', leaseMs: LEASE }))!;
      await r.pause('U1');
      await r.unpause('U1');
      expect((await r.get('U1'))?.state).toBe('busy');
      expect(await r.claimNext({ consumer: 'd', strategy: 'fifo', leaseMs: LEASE })).toBeNull();
      expect((await r.renew('U1', l.lease, LEASE)).ok).toBe(true);
    });

    it('an expired lease becomes claimable again', async () => {
      await reset(r, ['E1']);
      const l = (await r.claimNext({ consumer: 'dead', strategy: 'fifo', leaseMs: 50 }))!;
      expect(await r.expireLeases()).toEqual([]);
      await delay(120);
      expect(await r.expireLeases()).toEqual(['E1']);
      const e = (await r.get('E1'))!;
      expect(e).toMatchObject({ state: 'idle', consumer: null, leaseId: null });
      const l2 = (await r.claimNext({ consumer: 'alive', strategy: 'fifo', leaseMs: LEASE }))!;
      expect(l2.queue).toBe('E1');
      expect(await r.release('E1', l.lease)).toBe('not-held');
      // maxAgeMs: a lease not renewed for that long goes even before its expiry.
      await delay(60);
      expect(await r.expireLeases({ maxAgeMs: 30 })).toEqual(['E1']);
    });

    it('remove and the shared stop flag', async () => {
      await reset(r, ['X1']);
      expect(await r.remove('X1')).toBe(true);
      expect(await r.remove('X1')).toBe(false);
      expect(await r.get('X1')).toBeNull();
      await r.upsertFromAccounts(['X2']);
      await r.setStopped(true);
      expect(await store.b.isStopped()).toBe(true);
      // A stop through one client holds for claims through every other at once.
      expect(
        await store.b.claimNext({ consumer: 'c', strategy: 'fifo', leaseMs: LEASE }),
      ).toBeNull();
      await store.b.setStopped(false);
      expect(await r.isStopped()).toBe(false);
      expect((await r.claimNext({ consumer: 'c', strategy: 'fifo', leaseMs: LEASE }))?.queue).toBe(
        'X2',
      );
    });
  });

  describe('concurrency', () => {
    async function hammer(opts: {
      queues: string[];
      claimers: number;
      ms: number;
      strategy: Strategy;
    }): Promise<{ cycles: number; overlaps: number; handedOut: Set<string>; empty: number }> {
      const held = new Map<string, number>();
      const handedOut = new Set<string>();
      let overlaps = 0;
      let cycles = 0;
      let empty = 0;
      const until = Date.now() + opts.ms;
      await Promise.all(
        Array.from({ length: opts.claimers }, async (_, i) => {
          const reg = i % 2 === 0 ? store.a : store.b;
          while (Date.now() < until) {
            const l =
              i % 3 === 1
                ? (
                    await reg.claimBatch([{ consumer: `c${i}` }], {
                      strategy: opts.strategy,
                      leaseMs: LEASE,
                    })
                  )[0]!.lease
                : await reg.claimNext({
                    consumer: `c${i}`,
                    strategy: opts.strategy,
                    leaseMs: LEASE,
                  });
            if (!l) {
              empty += 1;
              await delay(1);
              continue;
            }
            if (held.has(l.queue)) overlaps += 1;
            held.set(l.queue, i);
            handedOut.add(l.queue);
            await delay(Math.random() * 2);
            held.delete(l.queue);
            cycles += 1;
            if (i % 3 === 0) {
              // Give back and take the next in one step, as POST /queue/next with "release" does.
              const next = await reg.releaseAndClaim(
                { queue: l.queue, lease: l.lease, empty: Math.random() < 0.5 },
                { consumer: `c${i}`, strategy: opts.strategy, leaseMs: LEASE },
              );
              if (next.released !== 'released') overlaps += 1;
              if (next.lease) {
                if (held.has(next.lease.queue)) overlaps += 1;
                handedOut.add(next.lease.queue);
                const back = await reg.release(next.lease.queue, next.lease.lease);
                if (back !== 'released') overlaps += 1;
              }
              continue;
            }
            const res = await reg.release(l.queue, l.lease, { empty: Math.random() < 0.5 });
            if (res !== 'released') overlaps += 1;
          }
        }),
      );
      return { cycles, overlaps, handedOut, empty };
    }

    for (const strategy of ['fifo', 'messages-first'] as const) {
      it(`12 claimers over 2 clients never hold one queue twice (${strategy}, contended)`, async () => {
        const ids = Array.from({ length: 8 }, (_, i) => `C${i}`);
        await reset(r, [...ids, 'PAUSED', 'GONE']);
        await r.pause('PAUSED');
        await r.markDeleted(['GONE']);
        const res = await hammer({ queues: ids, claimers: 12, ms: 1_500, strategy });
        expect(res.overlaps).toBe(0);
        expect(res.cycles).toBeGreaterThan(50);
        expect(res.empty).toBeGreaterThan(0); // 12 claimers on 8 queues did contend
        expect(res.handedOut.has('PAUSED')).toBe(false);
        expect(res.handedOut.has('GONE')).toBe(false);
        expect([...res.handedOut].sort()).toEqual(ids);
        expect((await r.list()).filter((e) => e.state === 'busy')).toEqual([]);
      });
    }
  });
}
