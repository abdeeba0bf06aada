import type { Statement } from './statement.js';

/**
 * Publish hints: $1 queue ids that just received messages. Locks them in id order, like every
 * bulk statement that waits (see claim-batch.sql.ts), so it never deadlocks with a claim.
 */
export const MARK_HAS_MESSAGES: Statement = {
  text: `UPDATE queue_registry q SET has_messages = true, hinted_at = now(), updated_at = now()
           FROM (SELECT id FROM queue_registry WHERE id = ANY($1::text[]) AND NOT deleted
                  ORDER BY id FOR UPDATE) h
          WHERE q.id = h.id RETURNING q.id`,
};
