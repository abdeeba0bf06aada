/**
 * The raw ceiling of the dispatcher: the very claim and release statements the
 * PostgreSQL registry issues (prepared, by name), straight from N connections,
 * no HTTP in between. The dispatcher's cycles/s divided by this is its "of raw".
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { REGISTRY_SQL, retryable } from '../registry/postgres-registry.js';
import type { Strategy } from '../registry/registry.js';
import { summarize, type LatencySummary } from './stats.js';

export interface LoopResult {
  consumers: number;
  seconds: number;
  cycles: number;
  cyclesPerSecond: number;
  empty: number;
  errors: number;
  /**
   * Times a queue was held twice (must be 0): handed out again before the
   * holder had sent its release, or a release refused because another claim
   * had replaced its lease.
   */
  overlaps: number;
  /** Of overlaps: handed out while held / releases refused. */
  handedWhileHeld: number;
  releasesRefused: number;
  /** The first few handed-while-held events, for diagnosis. */
  collisions?: string[];
  /** Claim (or POST /queue/next) latency, ms. */
  claim: LatencySummary;
  /** Claim + release, ms. */
  cycle: LatencySummary;
  firstError?: string;
}

/** The bookkeeping shared by both loops: who holds what, and what was measured. */
export function createTally() {
  const held = new Map<string, string>();
  const collisions: string[] = [];
  const claim: number[] = [];
  const cycle: number[] = [];
  let handedWhileHeld = 0;
  let releasesRefused = 0;
  let empty = 0;
  let errors = 0;
  let firstError: string | undefined;
  return {
    take(queue: string, who = ''): void {
      const holder = held.get(queue);
      if (holder !== undefined) {
        handedWhileHeld += 1;
        if (collisions.length < 5)
          collisions.push(`${queue} handed to ${who} while held by ${holder}`);
      }
      held.set(queue, who);
    },
    give(queue: string): void {
      held.delete(queue);
    },
    /** A release refused as "lease not held": someone else claimed the queue meanwhile. */
    lost(): void {
      releasesRefused += 1;
    },
    sample(claimMs: number, cycleMs: number | undefined): void {
      claim.push(claimMs);
      if (cycleMs !== undefined) cycle.push(cycleMs);
    },
    empty(): void {
      empty += 1;
    },
    error(err: unknown): void {
      errors += 1;
      firstError ??= err instanceof Error ? err.message : String(err);
    },
    result(consumers: number, seconds: number): LoopResult {
      return {
        consumers,
        seconds,
        cycles: cycle.length,
        cyclesPerSecond: Math.round(cycle.length / seconds),
        empty,
        errors,
        overlaps: handedWhileHeld + releasesRefused,
        handedWhileHeld,
        releasesRefused,
        ...(collisions.length ? { collisions } : {}),
        claim: summarize(claim),
        cycle: summarize(cycle),
        ...(firstError ? { firstError } : {}),
      };
    },
  };
}

export type ReleaseMode = 'combined' | 'separate';

/** As the registry does: a deadlocked statement was rolled back whole; run it again. */
async function query<R extends pg.QueryResultRow>(
  c: pg.Client,
  q: { name: string; text: string; values: unknown[] },
): Promise<pg.QueryResult<R>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await c.query<R>(q);
    } catch (err) {
      if (!retryable(err) || attempt >= 5) throw err;
    }
  }
}

export async function measureRawCeiling(opts: {
  pgUrl: string;
  consumers: number;
  durationMs: number;
  strategy: Strategy;
  /** combined: release + next claim in one statement, as the dispatcher does for POST /queue/next with "release". */
  mode: ReleaseMode;
  leaseMs?: number;
  /** Aborted: stop the loops. */
  signal?: AbortSignal | undefined;
}): Promise<LoopResult> {
  const clients = await Promise.all(
    Array.from({ length: opts.consumers }, async () => {
      const c = new pg.Client({
        connectionString: opts.pgUrl,
        application_name: 'ingest-loadtest-raw',
      });
      await c.connect();
      return c;
    }),
  );
  const fifo = opts.strategy === 'fifo';
  const claimSql = fifo ? REGISTRY_SQL.claimFifo : REGISTRY_SQL.claimMessagesFirst;
  const comboSql = fifo
    ? REGISTRY_SQL.releaseAndClaimFifo
    : REGISTRY_SQL.releaseAndClaimMessagesFirst;
  const leaseMs = opts.leaseMs ?? 60_000;
  const tally = createTally();
  const started = performance.now();
  const until = started + opts.durationMs;
  try {
    await Promise.all(
      clients.map(async (c, i) => {
        const consumer = `raw-${i}`;
        let held: { queue: string; lease: string } | undefined;
        while (performance.now() < until && !opts.signal?.aborted) {
          const t0 = performance.now();
          try {
            const lease = randomUUID();
            let queue: string | undefined;
            if (opts.mode === 'combined' && held) {
              tally.give(held.queue);
              const r = await query<{ released: number; id: string | null }>(c, {
                name: 'raw-release-claim',
                text: comboSql,
                values: [consumer, lease, leaseMs, held.queue, held.lease, Math.random() < 0.5],
              });
              if (!r.rows[0]?.released) tally.lost();
              held = undefined;
              queue = r.rows[0]?.id ?? undefined;
            } else {
              const r = await query<{ id: string }>(c, {
                name: 'raw-claim',
                text: claimSql,
                values: [consumer, lease, leaseMs],
              });
              queue = r.rows[0]?.id;
            }
            const t1 = performance.now();
            if (!queue) {
              tally.empty();
              tally.sample(t1 - t0, undefined);
              continue;
            }
            tally.take(queue, `${consumer}/${lease}`);
            if (opts.mode === 'combined') {
              held = { queue, lease };
              tally.sample(t1 - t0, t1 - t0);
              continue;
            }
            tally.give(queue);
            const rel = await query(c, {
              name: 'raw-release',
              text: REGISTRY_SQL.release,
              values: [queue, lease, Math.random() < 0.5],
            });
            if (!rel.rowCount) tally.lost();
            tally.sample(t1 - t0, performance.now() - t0);
          } catch (err) {
            tally.error(err);
          }
        }
        if (held) {
          tally.give(held.queue);
          try {
            const rel = await query(c, {
              name: 'raw-release',
              text: REGISTRY_SQL.release,
              values: [held.queue, held.lease, false],
            });
            if (!rel.rowCount) tally.lost();
          } catch (err) {
            tally.error(err);
          }
        }
      }),
    );
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }
  return tally.result(opts.consumers, (performance.now() - started) / 1000);
}
