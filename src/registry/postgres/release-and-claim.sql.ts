import type { Strategy } from '../registry.js';
import { claimSql } from './claim.sql.js';
import type { Statement } from './statement.js';

/**
 * Give back the queue a consumer held and claim its next one in one statement
 * (one round trip, what `POST /queue/next` with "release" does). Both CTEs see
 * the snapshot from before the statement, so the queue just given back is not
 * handed straight back to the same consumer.
 */
function releaseAndClaimSql(strategy: Strategy): string {
  return `WITH rel AS (
    UPDATE queue_registry
       SET state = CASE WHEN state = 'busy' THEN 'idle' ELSE state END,
           consumer = NULL, lease_id = NULL, leased_at = NULL, lease_expires_at = NULL,
           has_messages = NOT ($6::boolean AND coalesce(hinted_at < last_delivered_at, true)),
           updated_at = now()
     WHERE id = $4 AND lease_id = $5
    RETURNING id
  ), claim AS (
    ${claimSql(strategy, 'rel')}
  )
  SELECT (SELECT count(*) FROM rel)::int AS released, claim.id, claim.lease_expires_at
    FROM (SELECT 1) AS one LEFT JOIN claim ON true`;
}

/** $1 consumer, $2 lease id, $3 lease ms, $4 queue given back, $5 its lease, $6 it is empty. */
export const RELEASE_AND_CLAIM: Record<Strategy, Statement> = {
  fifo: { name: 'registry-release-claim-fifo', text: releaseAndClaimSql('fifo') },
  'messages-first': {
    name: 'registry-release-claim-mf',
    text: releaseAndClaimSql('messages-first'),
  },
};

export interface ReleaseAndClaimRow {
  released: number;
  id: string | null;
  lease_expires_at: Date | null;
}
