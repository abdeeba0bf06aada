import type { Statement } from './statement.js';

/**
 * The maintainer's counts: $1 ids, $2 ready, $3 unacked, $4 when counting began (a publish hint
 * since then, less a second for clock skew, outlives a count of 0). Bulk, so it must never wait on a row a
 * claim holds (it would hold other rows meanwhile: the deadlock seen under load): rows locked
 * right now are skipped and counted on the next pass; the rest are locked in id order.
 */
export const UPDATE_COUNTS: Statement = {
  text: `WITH u AS (
           SELECT DISTINCT ON (id) id, ready, unacked
             FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS u(id, ready, unacked)
         ), lk AS (
           SELECT q.id FROM queue_registry q
            WHERE q.id IN (SELECT id FROM u)
            ORDER BY q.id FOR UPDATE SKIP LOCKED
         )
         UPDATE queue_registry q
            SET ready_count = u.ready, unacked_count = u.unacked,
                message_count = u.ready + u.unacked,
                has_messages = u.ready > 0
                  OR coalesce(q.hinted_at >= $4::timestamptz - interval '1 second', false),
                counted_at = now(), updated_at = now()
           FROM lk JOIN u ON u.id = lk.id
          WHERE q.id = lk.id`,
};
