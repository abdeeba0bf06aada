/**
 * The queue registry in PostgreSQL. A claim is one prepared statement: pick
 * the first idle queue in strategy order with FOR UPDATE SKIP LOCKED and mark
 * it busy, so concurrent claimers (and dispatcher replicas) never get the same
 * queue and never wait on each other. The shared stop flag is part of the same
 * statement, so a stop through one dispatcher replica holds for all at once.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { createPgPool } from '../adapters/postgres/pool.js';
import { IngestError, errorMessage } from '../core/errors.js';
import type {
  AccountSync,
  BatchResult,
  ClaimRequest,
  Lease,
  QueueCount,
  QueueEntry,
  QueueRegistry,
  ReleaseResult,
  RenewResult,
  Strategy,
} from './registry.js';

const ORDER: Record<Strategy, string> = {
  fifo: 'last_delivered_at NULLS FIRST, id',
  'messages-first': 'has_messages DESC, last_delivered_at NULLS FIRST, id',
};

/**
 * Claim one idle queue. `after` names a data-modifying CTE that must finish
 * first: the pick then locks nothing until the give-backs hold their rows, so
 * the statement never waits while holding picked rows (no lock cycle).
 */
function claimSql(strategy: Strategy, after?: string): string {
  return `UPDATE queue_registry q
     SET state = 'busy', consumer = $1, lease_id = $2, leased_at = now(),
         lease_expires_at = now() + $3 * interval '1 millisecond',
         last_delivered_at = now(), updated_at = now()
    FROM (SELECT id FROM queue_registry
           WHERE state = 'idle' AND NOT deleted
             AND NOT EXISTS (SELECT 1 FROM dispatcher_control WHERE stopped)${after ? `\n             AND (SELECT count(*) FROM ${after}) >= 0` : ''}
           ORDER BY ${ORDER[strategy]}
           LIMIT 1 FOR UPDATE SKIP LOCKED) c
   WHERE q.id = c.id
  RETURNING q.id, q.lease_expires_at`;
}

/**
 * Give back the queue a consumer held and claim its next one in one statement
 * (one round trip, what `POST /queue/next` with "release" does). Both CTEs see
 * the snapshot from before the statement, so the queue just given back is not
 * handed straight back to the same consumer.
 */
function releaseAndClaimSql(strategy: Strategy): string {
  return `WITH rel AS (
    UPDATE queue_registry
       SET state = CASE WHEN state = 'busy' THEN 'idle' ELSE state END,
           consumer = NULL, lease_id = NULL, leased_at = NULL, lease_expires_at = NULL,
           has_messages = CASE WHEN $6::boolean THEN false ELSE true END,
           updated_at = now()
     WHERE id = $4 AND lease_id = $5
    RETURNING id
  ), claim AS (
    ${claimSql(strategy, 'rel')}
  )
  SELECT (SELECT count(*) FROM rel)::int AS released, claim.id, claim.lease_expires_at
    FROM (SELECT 1) AS one LEFT JOIN claim ON true`;
}

/**
 * Several consumers at once: every give-back, then as many idle queues as
 * there are requests (SKIP LOCKED), one per request, in one statement. The
 * queues given back are not among those claimed (same snapshot).
 *
 * Lock order (no deadlocks with each other or the maintainer): the rows given
 * back are locked first, in id order; only then are idle rows picked, and the
 * pick never waits (SKIP LOCKED). The maintainer's bulk updates skip locked
 * rows, so a claim never waits on the maintainer while holding rows it needs.
 */
function claimBatchSql(strategy: Strategy): string {
  return `WITH req AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[])
      WITH ORDINALITY AS r(consumer, lease, rel_queue, rel_lease, rel_empty, n)
  ), rel_lock AS (
    SELECT id FROM queue_registry
     WHERE id IN (SELECT rel_queue FROM req WHERE rel_queue IS NOT NULL)
     ORDER BY id FOR UPDATE
  ), rel AS (
    UPDATE queue_registry q
       SET state = CASE WHEN q.state = 'busy' THEN 'idle' ELSE q.state END,
           consumer = NULL, lease_id = NULL, leased_at = NULL, lease_expires_at = NULL,
           has_messages = NOT coalesce(req.rel_empty, false), updated_at = now()
      FROM rel_lock JOIN req ON req.rel_queue = rel_lock.id
     WHERE q.id = rel_lock.id AND q.lease_id = req.rel_lease
    RETURNING req.n
  ), pick AS (
    SELECT id, row_number() OVER () AS n FROM (
      SELECT id FROM queue_registry
       WHERE state = 'idle' AND NOT deleted
         AND NOT EXISTS (SELECT 1 FROM dispatcher_control WHERE stopped)
         AND (SELECT count(*) FROM rel) >= 0
       ORDER BY ${ORDER[strategy]}
       LIMIT $6 FOR UPDATE SKIP LOCKED) s
  ), claim AS (
    UPDATE queue_registry q
       SET state = 'busy', consumer = req.consumer, lease_id = req.lease, leased_at = now(),
           lease_expires_at = now() + $7 * interval '1 millisecond',
           last_delivered_at = now(), updated_at = now()
      FROM pick JOIN req ON req.n = pick.n
     WHERE q.id = pick.id
    RETURNING req.n, q.id, q.lease_expires_at
  )
  SELECT req.n, claim.id, claim.lease_expires_at,
         EXISTS (SELECT 1 FROM rel WHERE rel.n = req.n) AS released
    FROM req LEFT JOIN claim ON claim.n = req.n
   ORDER BY req.n`;
}

/** The statements, by name, so the raw-ceiling load test issues exactly the same SQL. */
export const REGISTRY_SQL = {
  claimFifo: claimSql('fifo'),
  claimMessagesFirst: claimSql('messages-first'),
  claimBatchFifo: claimBatchSql('fifo'),
  claimBatchMessagesFirst: claimBatchSql('messages-first'),
  releaseAndClaimFifo: releaseAndClaimSql('fifo'),
  releaseAndClaimMessagesFirst: releaseAndClaimSql('messages-first'),
  release: `UPDATE queue_registry
     SET state = CASE WHEN state = 'busy' THEN 'idle' ELSE state END,
         consumer = NULL, lease_id = NULL, leased_at = NULL, lease_expires_at = NULL,
         has_messages = CASE WHEN $3::boolean THEN false ELSE true END,
         updated_at = now()
   WHERE id = $1 AND lease_id = $2
  RETURNING id`,
  renew: `UPDATE queue_registry
     SET lease_expires_at = now() + $3 * interval '1 millisecond', leased_at = now(), updated_at = now()
   WHERE id = $1 AND lease_id = $2 AND state = 'busy' AND NOT deleted
  RETURNING lease_expires_at`,
} as const;

interface Row {
  id: string;
  state: QueueEntry['state'];
  deleted: boolean;
  deleted_at: Date | null;
  message_count: number;
  ready_count: number;
  unacked_count: number;
  has_messages: boolean;
  consumer: string | null;
  lease_id: string | null;
  leased_at: Date | null;
  lease_expires_at: Date | null;
  last_delivered_at: Date | null;
  counted_at: Date | null;
  updated_at: Date;
}

function toEntry(r: Row): QueueEntry {
  return {
    id: r.id,
    state: r.state,
    deleted: r.deleted,
    deletedAt: r.deleted_at,
    messageCount: Number(r.message_count),
    readyCount: Number(r.ready_count),
    unackedCount: Number(r.unacked_count),
    hasMessages: r.has_messages,
    consumer: r.consumer,
    leaseId: r.lease_id,
    leasedAt: r.leased_at,
    leaseExpiresAt: r.lease_expires_at,
    lastDeliveredAt: r.last_delivered_at,
    countedAt: r.counted_at,
    updatedAt: r.updated_at,
  };
}

const MAX_ATTEMPTS = 5;

/** Deadlock or serialization failure: the statement was rolled back and may run again. */
export function retryable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === '40P01' || code === '40001';
}

export interface PostgresRegistryOptions {
  url: string;
  /** Connections; a dispatcher wants about as many as concurrent consumers. */
  poolSize?: number;
  application?: string;
  /** Called when a statement was rolled back by a deadlock or serialization failure and runs again. */
  onRetry?: (info: { code: string; statement: string | undefined; attempt: number }) => void;
}

export function createPostgresRegistry(opts: PostgresRegistryOptions): QueueRegistry {
  const pool = createPgPool(opts.url, {
    max: opts.poolSize ?? 20,
    application: opts.application ?? 'ingest-registry',
  });
  let closing: Promise<void> | undefined;

  async function run<R extends pg.QueryResultRow>(
    name: string | undefined,
    text: string,
    values: unknown[] = [],
  ): Promise<pg.QueryResult<R>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await pool.query<R>(name ? { name, text, values } : { text, values });
      } catch (err) {
        // A statement that releases and claims rows can deadlock with a concurrent one
        // (seen with 12 concurrent claimers). PostgreSQL rolled it back whole, so
        // running it again is safe.
        if (retryable(err) && attempt < MAX_ATTEMPTS) {
          opts.onRetry?.({
            code: String((err as { code?: unknown }).code),
            statement: name,
            attempt,
          });
          continue;
        }
        throw translate(err);
      }
    }
  }

  function translate(err: unknown): unknown {
    const code = (err as { code?: unknown }).code;
    if (code === '42P01')
      return new IngestError(
        'CONFIG_INVALID',
        'the queue registry tables are missing in this database: run `ingest db migrate` (with the same --pg-url / --registry-url)',
        { cause: err },
      );
    // SQL errors (SQLSTATE outside connection/shutdown/resource classes) are bugs, not outages.
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !/^(08|57P|53)/.test(code))
      return err;
    return new IngestError('DATABASE_UNAVAILABLE', `registry database: ${errorMessage(err)}`, {
      cause: err,
      retryAfter: 1,
    });
  }

  async function exists(id: string): Promise<boolean> {
    const r = await run('registry-exists', 'SELECT 1 FROM queue_registry WHERE id = $1', [id]);
    return (r.rowCount ?? 0) > 0;
  }

  const registry: QueueRegistry = {
    backend: 'postgres',
    async claimNext(req: ClaimRequest): Promise<Lease | null> {
      const lease = randomUUID();
      const name = req.strategy === 'fifo' ? 'registry-claim-fifo' : 'registry-claim-mf';
      const sql =
        req.strategy === 'fifo' ? REGISTRY_SQL.claimFifo : REGISTRY_SQL.claimMessagesFirst;
      const r = await run<{ id: string; lease_expires_at: Date }>(name, sql, [
        req.consumer,
        lease,
        req.leaseMs,
      ]);
      const row = r.rows[0];
      return row ? { queue: row.id, lease, expiresAt: row.lease_expires_at } : null;
    },
    async claimBatch(items, o) {
      if (items.length === 0) return [];
      const leases = items.map(() => randomUUID());
      const fifo = o.strategy === 'fifo';
      const r = await run<{
        n: number;
        id: string | null;
        lease_expires_at: Date | null;
        released: boolean;
      }>(
        fifo ? 'registry-batch-fifo' : 'registry-batch-mf',
        fifo ? REGISTRY_SQL.claimBatchFifo : REGISTRY_SQL.claimBatchMessagesFirst,
        [
          items.map((i) => i.consumer),
          leases,
          items.map((i) => i.release?.queue ?? null),
          items.map((i) => i.release?.lease ?? null),
          items.map((i) => i.release?.empty === true),
          items.length,
          o.leaseMs,
        ],
      );
      const out: BatchResult[] = [];
      for (let k = 0; k < items.length; k++) {
        const item = items[k]!;
        const row = r.rows[k];
        const lease =
          row?.id && row.lease_expires_at
            ? { queue: row.id, lease: leases[k]!, expiresAt: row.lease_expires_at }
            : null;
        if (!item.release) {
          out.push({ lease });
          continue;
        }
        const released: ReleaseResult = row?.released
          ? 'released'
          : (await exists(item.release.queue))
            ? 'not-held'
            : 'not-found';
        out.push({ released, lease });
      }
      return out;
    },
    async releaseAndClaim(rel, req) {
      const lease = randomUUID();
      const fifo = req.strategy === 'fifo';
      const r = await run<{ released: number; id: string | null; lease_expires_at: Date | null }>(
        fifo ? 'registry-release-claim-fifo' : 'registry-release-claim-mf',
        fifo ? REGISTRY_SQL.releaseAndClaimFifo : REGISTRY_SQL.releaseAndClaimMessagesFirst,
        [req.consumer, lease, req.leaseMs, rel.queue, rel.lease, rel.empty === true],
      );
      const row = r.rows[0];
      const released: ReleaseResult =
        row && row.released > 0 ? 'released' : (await exists(rel.queue)) ? 'not-held' : 'not-found';
      if (row?.id && row.lease_expires_at)
        return { released, lease: { queue: row.id, lease, expiresAt: row.lease_expires_at } };
      // Nothing else was claimable: the queue just given back may go straight back out.
      return { released, lease: released === 'released' ? await registry.claimNext(req) : null };
    },
    async release(queue, lease, o = {}): Promise<ReleaseResult> {
      const r = await run('registry-release', REGISTRY_SQL.release, [
        queue,
        lease,
        o.empty === true,
      ]);
      if (r.rowCount) return 'released';
      return (await exists(queue)) ? 'not-held' : 'not-found';
    },
    async renew(queue, lease, leaseMs): Promise<RenewResult> {
      const r = await run<{ lease_expires_at: Date }>('registry-renew', REGISTRY_SQL.renew, [
        queue,
        lease,
        leaseMs,
      ]);
      const row = r.rows[0];
      if (row) return { ok: true, expiresAt: row.lease_expires_at };
      return { ok: false, reason: (await exists(queue)) ? 'not-held' : 'not-found' };
    },
    async pause(queue) {
      const r = await run(
        undefined,
        `UPDATE queue_registry SET state = 'paused', updated_at = now() WHERE id = $1 RETURNING id`,
        [queue],
      );
      return (r.rowCount ?? 0) > 0;
    },
    async unpause(queue) {
      // A consumer still inside its lease keeps the queue: it must not be handed out twice.
      const r = await run(
        undefined,
        `UPDATE queue_registry
            SET state = CASE WHEN state <> 'paused' THEN state
                             WHEN lease_id IS NOT NULL AND lease_expires_at > now() THEN 'busy'
                             ELSE 'idle' END,
                consumer = CASE WHEN lease_expires_at > now() THEN consumer END,
                lease_id = CASE WHEN lease_expires_at > now() THEN lease_id END,
                leased_at = CASE WHEN lease_expires_at > now() THEN leased_at END,
                lease_expires_at = CASE WHEN lease_expires_at > now() THEN lease_expires_at END,
                updated_at = now()
          WHERE id = $1 RETURNING id`,
        [queue],
      );
      return (r.rowCount ?? 0) > 0;
    },
    async markDeleted(queues) {
      const r = await run<{ id: string }>(
        undefined,
        `UPDATE queue_registry q SET deleted = true, deleted_at = now(), updated_at = now()
           FROM (SELECT id FROM queue_registry WHERE id = ANY($1::text[]) AND NOT deleted
                  ORDER BY id FOR UPDATE) d
          WHERE q.id = d.id AND NOT q.deleted RETURNING q.id`,
        [queues],
      );
      return r.rows.map((x) => x.id);
    },
    async upsertFromAccounts(activeIds): Promise<AccountSync> {
      // Only missing or deleted entries are written (ON CONFLICT DO UPDATE locks every row it
      // meets, even when its WHERE is false): the sync leaves live rows to the claimers.
      const up = await run<{ id: string; inserted: boolean }>(
        undefined,
        `INSERT INTO queue_registry (id)
         SELECT a.id FROM (SELECT DISTINCT unnest($1::text[]) AS id) a
          WHERE NOT EXISTS (SELECT 1 FROM queue_registry q WHERE q.id = a.id AND NOT q.deleted)
          ORDER BY a.id
         ON CONFLICT (id) DO UPDATE SET deleted = false, deleted_at = NULL, updated_at = now()
           WHERE queue_registry.deleted
         RETURNING id, (xmax = 0) AS inserted`,
        [activeIds],
      );
      // Rows a claim holds right now are skipped; the next sync marks them.
      const del = await run<{ id: string }>(
        undefined,
        `UPDATE queue_registry q SET deleted = true, deleted_at = now(), updated_at = now()
           FROM (SELECT id FROM queue_registry
                  WHERE NOT deleted AND NOT (id = ANY($1::text[]))
                  ORDER BY id FOR UPDATE SKIP LOCKED) d
          WHERE q.id = d.id AND NOT q.deleted
          RETURNING q.id`,
        [activeIds],
      );
      return {
        created: up.rows.filter((x) => x.inserted).map((x) => x.id),
        restored: up.rows.filter((x) => !x.inserted).map((x) => x.id),
        deleted: del.rows.map((x) => x.id),
      };
    },
    /**
     * The maintainer's counts. Bulk, so it must never wait on a row a claim holds (it
     * would hold other rows meanwhile: the deadlock seen under load): rows locked
     * right now are skipped and counted on the next pass; the rest are locked in id order.
     */
    async updateCounts(counts: readonly QueueCount[]) {
      if (counts.length === 0) return 0;
      const r = await run(
        undefined,
        `WITH u AS (
           SELECT DISTINCT ON (id) id, ready, unacked
             FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS u(id, ready, unacked)
         ), lk AS (
           SELECT q.id FROM queue_registry q
            WHERE q.id IN (SELECT id FROM u)
            ORDER BY q.id FOR UPDATE SKIP LOCKED
         )
         UPDATE queue_registry q
            SET ready_count = u.ready, unacked_count = u.unacked,
                message_count = u.ready + u.unacked, has_messages = u.ready > 0,
                counted_at = now(), updated_at = now()
           FROM lk JOIN u ON u.id = lk.id
          WHERE q.id = lk.id`,
        [counts.map((c) => c.id), counts.map((c) => c.ready), counts.map((c) => c.unacked)],
      );
      return r.rowCount ?? 0;
    },
    /** Run by every dispatcher's sweep and the maintainer: never waits on a locked row (see updateCounts). */
    async expireLeases(o = {}) {
      const r = await run<{ id: string }>(
        undefined,
        `UPDATE queue_registry q
            SET state = CASE WHEN q.state = 'busy' THEN 'idle' ELSE q.state END,
                consumer = NULL, lease_id = NULL, leased_at = NULL, lease_expires_at = NULL,
                updated_at = now()
           FROM (SELECT id FROM queue_registry
                  WHERE lease_id IS NOT NULL
                    AND (lease_expires_at <= now()
                         OR ($1::bigint IS NOT NULL
                             AND leased_at <= now() - $1 * interval '1 millisecond'))
                  ORDER BY id FOR UPDATE SKIP LOCKED) e
          WHERE q.id = e.id AND q.lease_id IS NOT NULL
          RETURNING q.id`,
        [o.maxAgeMs ?? null],
      );
      return r.rows.map((x) => x.id);
    },
    async list() {
      const r = await run<Row>(undefined, 'SELECT * FROM queue_registry ORDER BY id');
      return r.rows.map(toEntry);
    },
    async get(queue) {
      const r = await run<Row>(undefined, 'SELECT * FROM queue_registry WHERE id = $1', [queue]);
      return r.rows[0] ? toEntry(r.rows[0]) : null;
    },
    async remove(queue) {
      const r = await run(undefined, 'DELETE FROM queue_registry WHERE id = $1', [queue]);
      return (r.rowCount ?? 0) > 0;
    },
    async setStopped(stopped) {
      await run(
        undefined,
        `INSERT INTO dispatcher_control (id, stopped) VALUES (1, $1)
         ON CONFLICT (id) DO UPDATE SET stopped = $1, updated_at = now()`,
        [stopped],
      );
    },
    async isStopped() {
      const r = await run<{ stopped: boolean }>(
        'registry-stopped',
        'SELECT stopped FROM dispatcher_control WHERE id = 1',
      );
      return r.rows[0]?.stopped ?? false;
    },
    close() {
      closing ??= pool.end().catch(() => undefined);
      return closing;
    },
  };
  return registry;
}
