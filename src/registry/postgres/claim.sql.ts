import type { Strategy } from '../registry.js';
import type { Statement } from './statement.js';
import { ORDER, withMessagesFilter } from './strategy-order.sql.js';

/**
 * Claim one idle queue. `after` names a data-modifying CTE that must finish
 * first: the pick then locks nothing until the give-backs hold their rows, so
 * the statement never waits while holding picked rows (no lock cycle).
 */
export function claimSql(strategy: Strategy, after?: string, withMessages?: boolean): string {
  return `UPDATE queue_registry q
     SET state = 'busy', consumer = $1, lease_id = $2, leased_at = now(),
         lease_expires_at = now() + $3 * interval '1 millisecond',
         last_delivered_at = now(), updated_at = now()
    FROM (SELECT id FROM queue_registry
           WHERE state = 'idle' AND NOT deleted${withMessagesFilter(withMessages)}
             AND NOT EXISTS (SELECT 1 FROM dispatcher_control WHERE stopped)${after ? `\n             AND (SELECT count(*) FROM ${after}) >= 0` : ''}
           ORDER BY ${ORDER[strategy]}
           LIMIT 1 FOR UPDATE SKIP LOCKED) c
   WHERE q.id = c.id
  RETURNING q.id, q.lease_expires_at`;
}

/** $1 consumer, $2 lease id, $3 lease ms. */
export const CLAIM: Record<Strategy, Statement> = {
  fifo: { name: 'registry-claim-fifo', text: claimSql('fifo') },
  'messages-first': { name: 'registry-claim-mf', text: claimSql('messages-first') },
};

/**
 * Only among queues known to hold messages (has_messages), for consumers that would rather
 * wait. Among those both strategies pick in the same order, so one statement serves both.
 */
export const CLAIM_WITH_MESSAGES: Statement = {
  name: 'registry-claim-msgs',
  text: claimSql('messages-first', undefined, true),
};

export interface ClaimRow {
  id: string;
  lease_expires_at: Date;
}
