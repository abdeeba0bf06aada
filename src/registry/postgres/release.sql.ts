import type { Statement } from './statement.js';

/** Give a held queue back. $1 queue, $2 lease id, $3 the queue was left empty. */
export const RELEASE: Statement = {
  name: 'registry-release',
  text: `UPDATE queue_registry
     SET state = CASE WHEN state = 'busy' THEN 'idle' ELSE state END,
         consumer = NULL, lease_id = NULL, leased_at = NULL, lease_expires_at = NULL,
         has_messages = CASE WHEN $3::boolean THEN false ELSE true END,
         updated_at = now()
   WHERE id = $1 AND lease_id = $2
  RETURNING id`,
};
