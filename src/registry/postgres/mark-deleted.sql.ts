import type { Statement } from './statement.js';

/** $1 queue ids; locks them in id order. Returns the ids newly marked. */
export const MARK_DELETED: Statement = {
  text: `UPDATE queue_registry q SET deleted = true, deleted_at = now(), updated_at = now()
           FROM (SELECT id FROM queue_registry WHERE id = ANY($1::text[]) AND NOT deleted
                  ORDER BY id FOR UPDATE) d
          WHERE q.id = d.id AND NOT q.deleted RETURNING q.id`,
};
