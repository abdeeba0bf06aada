import type { Statement } from './statement.js';

/**
 * Publish hints: $1 queue ids that just received messages. Never waits on a row
 * a claim or release holds right now (like the maintainer's bulk statements, see
 * update-counts.sql.ts): those rows are skipped and returned with `marked` false,
 * and the hint pump applies them on its next pass. The rest are locked in id order.
 * Deleted or unknown ids return no row.
 */
export const MARK_HAS_MESSAGES: Statement = {
  text: `WITH want AS (
           SELECT id FROM queue_registry WHERE id = ANY($1::text[]) AND NOT deleted
         ), lk AS (
           SELECT id FROM queue_registry WHERE id IN (SELECT id FROM want) AND NOT deleted
            ORDER BY id FOR UPDATE SKIP LOCKED
         ), up AS (
           UPDATE queue_registry q SET has_messages = true, hinted_at = now(), updated_at = now()
             FROM lk WHERE q.id = lk.id AND NOT q.deleted
           RETURNING q.id
         )
         SELECT want.id, EXISTS (SELECT 1 FROM up WHERE up.id = want.id) AS marked FROM want`,
};

export interface MarkHasMessagesRow {
  id: string;
  marked: boolean;
}
