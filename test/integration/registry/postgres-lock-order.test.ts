/**
 * Lock order in the PostgreSQL registry: claimers giving back several queues in
 * one batch, single release-and-claims, and the maintainer's bulk statements
 * (counts, account sync, lease expiry) all at once on one small registry. No
 * statement may deadlock (PostgreSQL would roll one back after deadlock_timeout
 * and the registry retry it: seconds of latency on POST /queue/next), and no
 * queue may be held twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as delay } from 'node:timers/promises';
import { createPostgresRegistry } from '../../../src/registry/postgres-registry.js';
import type { Lease, QueueRegistry, Strategy } from '../../../src/registry/registry.js';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';

const LEASE = 30_000;
const QUEUES = Array.from({ length: 24 }, (_, i) => `L${String(i).padStart(2, '0')}`);

function shuffled<T>(xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('PostgreSQL registry lock order', () => {
  let env: TestEnv;
  const retries: string[] = [];
  const regs: QueueRegistry[] = [];

  beforeAll(async () => {
    env = await createTestEnv();
    for (let i = 0; i < 3; i++)
      regs.push(
        createPostgresRegistry({
          url: env.config.pgUrl,
          poolSize: 8,
          onRetry: (r) => retries.push(`${r.code} ${r.statement ?? 'unnamed'} #${r.attempt}`),
        }),
      );
    // Deadlocks show at once instead of after the default 1 s.
    await env.pool.query(`ALTER DATABASE "ingest_test_${env.id}" SET deadlock_timeout = '50ms'`);
  });
  afterAll(async () => {
    for (const r of regs) await r.close();
    await env?.cleanup();
  });

  for (const strategy of ['fifo', 'messages-first'] as const satisfies readonly Strategy[]) {
    it(`12 claimers and maintainer bulk updates: no deadlock, never held twice (${strategy})`, async () => {
      const [a, b, maint] = regs as [QueueRegistry, QueueRegistry, QueueRegistry];
      for (const e of await maint.list()) await maint.remove(e.id);
      await maint.upsertFromAccounts(QUEUES);
      retries.length = 0;
      const held = new Map<string, number>();
      let overlaps = 0;
      let cycles = 0;
      let maintainerPasses = 0;
      const errors: string[] = [];
      const until = Date.now() + 2_000;

      function take(l: Lease | null, who: number): void {
        if (!l) return;
        if (held.has(l.queue)) overlaps += 1;
        held.set(l.queue, who);
      }
      function drop(queue: string): void {
        held.delete(queue);
      }

      const claimers = Array.from({ length: 12 }, async (_, i) => {
        const reg = i % 2 === 0 ? a : b;
        const mine: Lease[] = [];
        while (Date.now() < until) {
          try {
            if (i % 3 === 0 && mine.length === 1) {
              // One give-back and the next claim in one statement.
              const l = mine.pop()!;
              drop(l.queue);
              const r = await reg.releaseAndClaim(
                { queue: l.queue, lease: l.lease, empty: Math.random() < 0.5 },
                { consumer: `c${i}`, strategy, leaseMs: LEASE },
              );
              if (r.released !== 'released') overlaps += 1;
              take(r.lease, i);
              if (r.lease) mine.push(r.lease);
            } else if (mine.length >= 2) {
              // Several give-backs in one batch (what the dispatcher's coalescing sends),
              // in descending order so the rows come in the opposite order to other statements.
              const back = mine.splice(0).sort((x, y) => y.queue.localeCompare(x.queue));
              for (const l of back) drop(l.queue);
              const res = await reg.claimBatch(
                back.map((l) => ({
                  consumer: `c${i}`,
                  release: { queue: l.queue, lease: l.lease, empty: Math.random() < 0.5 },
                })),
                { strategy, leaseMs: LEASE },
              );
              for (const r of res) {
                if (r.released !== 'released') overlaps += 1;
                take(r.lease, i);
                if (r.lease) mine.push(r.lease);
              }
            } else {
              const res = await reg.claimBatch([{ consumer: `c${i}` }, { consumer: `c${i}` }], {
                strategy,
                leaseMs: LEASE,
              });
              for (const r of res) {
                take(r.lease, i);
                if (r.lease) mine.push(r.lease);
              }
              const l = await reg.claimNext({ consumer: `c${i}`, strategy, leaseMs: LEASE });
              take(l, i);
              if (l) mine.push(l);
            }
            cycles += 1;
            await delay(Math.random() * 2);
          } catch (err) {
            errors.push(err instanceof Error ? err.message : String(err));
          }
        }
        for (const l of mine.splice(0)) {
          drop(l.queue);
          if ((await reg.release(l.queue, l.lease)) !== 'released') overlaps += 1;
        }
      });

      const maintainer = (async () => {
        while (Date.now() < until) {
          try {
            // Every row, in a random order each pass, as a count listing would come.
            await maint.updateCounts(
              shuffled(QUEUES).map((id) => ({
                id,
                ready: Math.floor(Math.random() * 3),
                unacked: Math.floor(Math.random() * 2),
              })),
            );
            await maint.upsertFromAccounts(shuffled(QUEUES));
            await maint.expireLeases({ maxAgeMs: LEASE });
            // What a dispatcher's publish-hint pump sends meanwhile.
            await maint.markHasMessages(shuffled(QUEUES).slice(0, 20));
            maintainerPasses += 1;
          } catch (err) {
            errors.push(err instanceof Error ? err.message : String(err));
          }
        }
      })();

      await Promise.all([...claimers, maintainer]);
      expect(errors).toEqual([]);
      expect(retries).toEqual([]);
      expect(overlaps).toBe(0);
      expect(cycles).toBeGreaterThan(100);
      expect(maintainerPasses).toBeGreaterThan(10);
      const entries = await maint.list();
      expect(entries.filter((e) => e.state === 'busy' || e.leaseId !== null)).toEqual([]);
      expect(entries.filter((e) => e.deleted)).toEqual([]);
      expect(entries).toHaveLength(QUEUES.length);
    });
  }

  it('a publish hint never waits on a queue a statement holds: it comes back busy, for the next pass', async () => {
    const maint = regs[2]!;
    for (const e of await maint.list()) await maint.remove(e.id);
    await maint.upsertFromAccounts(['H0', 'H1']);
    await maint.markDeleted(['H1']);
    await maint.upsertFromAccounts(['H0', 'H2']);
    await maint.updateCounts([{ id: 'H0', ready: 0, unacked: 0 }]);
    expect((await maint.get('H0'))?.hasMessages).toBe(false);
    const holder = await env.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT id FROM queue_registry WHERE id = 'H0' FOR UPDATE`);
      // Were it to wait, the hint would only return once this fallback ends the holder's transaction.
      const fallback = setTimeout(
        () => void holder.query('ROLLBACK').catch(() => undefined),
        3_000,
      );
      const started = Date.now();
      const first = await maint.markHasMessages(['H0', 'H1', 'H2', 'NOPE']);
      clearTimeout(fallback);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(first).toEqual({ marked: 1, busy: ['H0'] });
      expect((await maint.get('H0'))?.hasMessages).toBe(false);
      await holder.query('COMMIT');
    } finally {
      holder.release();
    }
    expect(await maint.markHasMessages(['H0'])).toEqual({ marked: 1, busy: [] });
    expect((await maint.get('H0'))?.hasMessages).toBe(true);
    expect((await maint.get('H1'))?.hintedAt).toBeNull();
  });
});
