import type { Strategy } from '../registry.js';
import type { Statement } from './statement.js';
import { ORDER, withMessagesFilter } from './strategy-order.sql.js';

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
function claimBatchSql(strategy: Strategy, withMessages = false): string {
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
           has_messages = NOT (coalesce(req.rel_empty, false)
                               AND coalesce(q.hinted_at < q.last_delivered_at, true)),
           updated_at = now()
      FROM rel_lock JOIN req ON req.rel_queue = rel_lock.id
     WHERE q.id = rel_lock.id AND q.lease_id = req.rel_lease
    RETURNING req.n
  ), pick AS (
    SELECT id, row_number() OVER () AS n FROM (
      SELECT id FROM queue_registry
       WHERE state = 'idle' AND NOT deleted${withMessagesFilter(withMessages)}
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

/**
 * Arrays, one element per request: $1 consumers, $2 lease ids, $3 queues given back,
 * $4 their leases, $5 given back empty; $6 request count, $7 lease ms.
 */
export const CLAIM_BATCH: Record<Strategy, Statement> = {
  fifo: { name: 'registry-batch-fifo', text: claimBatchSql('fifo') },
  'messages-first': { name: 'registry-batch-mf', text: claimBatchSql('messages-first') },
};

/**
 * Only among queues known to hold messages, for consumers that would rather wait (one
 * statement for both strategies: among those queues they pick in the same order).
 */
export const CLAIM_BATCH_WITH_MESSAGES: Statement = {
  name: 'registry-batch-msgs',
  text: claimBatchSql('messages-first', true),
};

/** One row per request, in request order. */
export interface ClaimBatchRow {
  n: number;
  id: string | null;
  lease_expires_at: Date | null;
  released: boolean;
}
