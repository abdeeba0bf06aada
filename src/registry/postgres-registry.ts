/**
 * The queue registry in PostgreSQL. A claim is one prepared statement: pick
 * the first idle queue in strategy order with FOR UPDATE SKIP LOCKED and mark
 * it busy, so concurrent claimers (and dispatcher replicas) never get the same
 * queue and never wait on each other. The shared stop flag is part of the same
 * statement, so a stop through one dispatcher replica holds for all at once.
 * The SQL lives in ./postgres/ (one operation per file); this adapter runs it and maps rows.
 */
import { missingSetupError, pgCode } from '../adapters/postgres/pg-errors.js';
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { createPgPool } from '../adapters/postgres/pool.js';
import { IngestError, errorMessage } from '../core/errors.js';
import * as sql from './postgres/index.js';
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
} from './registry.js';

export { REGISTRY_SQL } from './postgres/index.js';

function toEntry(r: sql.EntryRow): QueueEntry {
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
    hintedAt: r.hinted_at,
    updatedAt: r.updated_at,
  };
}

const MAX_ATTEMPTS = 5;

/** Deadlock or serialization failure: the statement was rolled back and may run again. */
export function retryable(err: unknown): boolean {
  const code = pgCode(err);
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
    { name, text }: sql.Statement,
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
            code: String(pgCode(err)),
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
    const code = pgCode(err);
    const setup = missingSetupError(err, 'queue registry ');
    if (setup) return setup;
    // SQL errors (SQLSTATE outside connection/shutdown/resource classes) are bugs, not outages.
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !/^(08|57P|53)/.test(code))
      return err;
    return new IngestError('DATABASE_UNAVAILABLE', `registry database: ${errorMessage(err)}`, {
      cause: err,
      retryAfter: 1,
    });
  }

  async function exists(id: string): Promise<boolean> {
    const r = await run(sql.EXISTS, [id]);
    return (r.rowCount ?? 0) > 0;
  }

  const registry: QueueRegistry = {
    backend: 'postgres',
    async claimNext(req: ClaimRequest): Promise<Lease | null> {
      const lease = randomUUID();
      const statement = req.withMessages ? sql.CLAIM_WITH_MESSAGES : sql.CLAIM[req.strategy];
      const r = await run<sql.ClaimRow>(statement, [req.consumer, lease, req.leaseMs]);
      const row = r.rows[0];
      return row ? { queue: row.id, lease, expiresAt: row.lease_expires_at } : null;
    },
    async claimBatch(items, o) {
      if (items.length === 0) return [];
      const leases = items.map(() => randomUUID());
      const statement = o.withMessages
        ? sql.CLAIM_BATCH_WITH_MESSAGES
        : sql.CLAIM_BATCH[o.strategy];
      const r = await run<sql.ClaimBatchRow>(statement, [
        items.map((i) => i.consumer),
        leases,
        items.map((i) => i.release?.queue ?? null),
        items.map((i) => i.release?.lease ?? null),
        items.map((i) => i.release?.empty === true),
        items.length,
        o.leaseMs,
      ]);
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
      const r = await run<sql.ReleaseAndClaimRow>(sql.RELEASE_AND_CLAIM[req.strategy], [
        req.consumer,
        lease,
        req.leaseMs,
        rel.queue,
        rel.lease,
        rel.empty === true,
      ]);
      const row = r.rows[0];
      const released: ReleaseResult =
        row && row.released > 0 ? 'released' : (await exists(rel.queue)) ? 'not-held' : 'not-found';
      if (row?.id && row.lease_expires_at)
        return { released, lease: { queue: row.id, lease, expiresAt: row.lease_expires_at } };
      // Nothing else was claimable: the queue just given back may go straight back out.
      return { released, lease: released === 'released' ? await registry.claimNext(req) : null };
    },
    async release(queue, lease, o = {}): Promise<ReleaseResult> {
      const r = await run(sql.RELEASE, [queue, lease, o.empty === true]);
      if (r.rowCount) return 'released';
      return (await exists(queue)) ? 'not-held' : 'not-found';
    },
    async renew(queue, lease, leaseMs): Promise<RenewResult> {
      const r = await run<sql.RenewRow>(sql.RENEW, [queue, lease, leaseMs]);
      const row = r.rows[0];
      if (row) return { ok: true, expiresAt: row.lease_expires_at };
      return { ok: false, reason: (await exists(queue)) ? 'not-held' : 'not-found' };
    },
    async pause(queue) {
      const r = await run(sql.PAUSE, [queue]);
      return (r.rowCount ?? 0) > 0;
    },
    async unpause(queue) {
      const r = await run(sql.UNPAUSE, [queue]);
      return (r.rowCount ?? 0) > 0;
    },
    async markDeleted(queues) {
      const r = await run<{ id: string }>(sql.MARK_DELETED, [queues]);
      return r.rows.map((x) => x.id);
    },
    async upsertFromAccounts(activeIds): Promise<AccountSync> {
      const up = await run<sql.UpsertAccountsRow>(sql.UPSERT_ACCOUNTS, [activeIds]);
      const del = await run<{ id: string }>(sql.DELETE_MISSING_ACCOUNTS, [activeIds]);
      return {
        created: up.rows.filter((x) => x.inserted).map((x) => x.id),
        restored: up.rows.filter((x) => !x.inserted).map((x) => x.id),
        deleted: del.rows.map((x) => x.id),
      };
    },
    async updateCounts(counts: readonly QueueCount[], o = {}) {
      if (counts.length === 0) return 0;
      const r = await run(sql.UPDATE_COUNTS, [
        counts.map((c) => c.id),
        counts.map((c) => c.ready),
        counts.map((c) => c.unacked),
        o.countedSince ?? new Date(),
      ]);
      return r.rowCount ?? 0;
    },
    async clock() {
      const r = await run<{ now: Date }>(sql.NOW);
      return r.rows[0]!.now;
    },
    async markHasMessages(queues) {
      if (queues.length === 0) return { marked: 0, busy: [] };
      const r = await run<sql.MarkHasMessagesRow>(sql.MARK_HAS_MESSAGES, [queues]);
      return {
        marked: r.rows.filter((x) => x.marked).length,
        busy: r.rows.filter((x) => !x.marked).map((x) => x.id),
      };
    },
    async expireLeases(o = {}) {
      const r = await run<{ id: string }>(sql.EXPIRE_LEASES, [o.maxAgeMs ?? null]);
      return r.rows.map((x) => x.id);
    },
    async list() {
      const r = await run<sql.EntryRow>(sql.LIST);
      return r.rows.map(toEntry);
    },
    async get(queue) {
      const r = await run<sql.EntryRow>(sql.GET, [queue]);
      return r.rows[0] ? toEntry(r.rows[0]) : null;
    },
    async remove(queue) {
      const r = await run(sql.REMOVE, [queue]);
      return (r.rowCount ?? 0) > 0;
    },
    async setStopped(stopped) {
      await run(sql.SET_STOPPED, [stopped]);
    },
    async isStopped() {
      const r = await run<{ stopped: boolean }>(sql.IS_STOPPED);
      return r.rows[0]?.stopped ?? false;
    },
    close() {
      closing ??= pool.end().catch(() => undefined);
      return closing;
    },
  };
  return registry;
}
