import type { Statement } from './statement.js';

/** Extend a held lease. $1 queue, $2 lease id, $3 lease ms. */
export const RENEW: Statement = {
  name: 'registry-renew',
  text: `UPDATE queue_registry
     SET lease_expires_at = now() + $3 * interval '1 millisecond', leased_at = now(), updated_at = now()
   WHERE id = $1 AND lease_id = $2 AND state = 'busy' AND NOT deleted
  RETURNING lease_expires_at`,
};

export interface RenewRow {
  lease_expires_at: Date;
}
