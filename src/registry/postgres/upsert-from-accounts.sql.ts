import type { Statement } from './statement.js';

/**
 * $1 active account ids. Only missing or deleted entries are written (ON CONFLICT DO UPDATE locks
 * every row it meets, even when its WHERE is false): the sync leaves live rows to the claimers.
 */
export const UPSERT_ACCOUNTS: Statement = {
  text: `INSERT INTO queue_registry (id)
         SELECT a.id FROM (SELECT DISTINCT unnest($1::text[]) AS id) a
          WHERE NOT EXISTS (SELECT 1 FROM queue_registry q WHERE q.id = a.id AND NOT q.deleted)
          ORDER BY a.id
         ON CONFLICT (id) DO UPDATE SET deleted = false, deleted_at = NULL, updated_at = now()
           WHERE queue_registry.deleted
         RETURNING id, (xmax = 0) AS inserted`,
};

export interface UpsertAccountsRow {
  id: string;
  inserted: boolean;
}

/** $1 active account ids. Rows a claim holds right now are skipped; the next sync marks them. */
export const DELETE_MISSING_ACCOUNTS: Statement = {
  text: `UPDATE queue_registry q SET deleted = true, deleted_at = now(), updated_at = now()
           FROM (SELECT id FROM queue_registry
                  WHERE NOT deleted AND NOT (id = ANY($1::text[]))
                  ORDER BY id FOR UPDATE SKIP LOCKED) d
          WHERE q.id = d.id AND NOT q.deleted
          RETURNING q.id`,
};
