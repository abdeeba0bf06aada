import type { Statement } from './statement.js';

/**
 * Give a held queue back. $1 queue, $2 lease id, $3 the queue was left empty (unless a publish
 * hint arrived since the claim, last_delivered_at, which renewals leave alone: that message
 * may have come after the consumer's last look).
 */
export const RELEASE: Statement = {
  name: 'registry-release',
  text: `UPDATE queue_registry
     SET state = CASE WHEN state = 'busy' THEN 'idle' ELSE state END,
         consumer = NULL, lease_id = NULL, leased_at = NULL, lease_expires_at = NULL,
         has_messages = NOT ($3::boolean AND coalesce(hinted_at < last_delivered_at, true)),
         updated_at = now()
   WHERE id = $1 AND lease_id = $2
  RETURNING id`,
};
