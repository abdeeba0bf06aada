import type { Statement } from './statement.js';

/**
 * $1 max lease age in ms or null. Run by every dispatcher's sweep and the maintainer: never waits
 * on a locked row (see update-counts.sql.ts).
 */
export const EXPIRE_LEASES: Statement = {
  text: `UPDATE queue_registry q
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
};
