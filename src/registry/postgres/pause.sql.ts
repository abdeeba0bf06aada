import type { Statement } from './statement.js';

/** $1 queue. */
export const PAUSE: Statement = {
  text: `UPDATE queue_registry SET state = 'paused', updated_at = now() WHERE id = $1 RETURNING id`,
};

/**
 * $1 queue. A consumer still inside its lease keeps the queue: it must not be handed out twice.
 */
export const UNPAUSE: Statement = {
  text: `UPDATE queue_registry
            SET state = CASE WHEN state <> 'paused' THEN state
                             WHEN lease_id IS NOT NULL AND lease_expires_at > now() THEN 'busy'
                             ELSE 'idle' END,
                consumer = CASE WHEN lease_expires_at > now() THEN consumer END,
                lease_id = CASE WHEN lease_expires_at > now() THEN lease_id END,
                leased_at = CASE WHEN lease_expires_at > now() THEN leased_at END,
                lease_expires_at = CASE WHEN lease_expires_at > now() THEN lease_expires_at END,
                updated_at = now()
          WHERE id = $1 RETURNING id`,
};
