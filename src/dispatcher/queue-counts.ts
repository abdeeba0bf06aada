/** A queue's message counts as `GET /queue/status` reports them. */
import type { QueueStatusEntry } from './client.js';

/**
 * Ready and unacked messages from the registry. A queue in state "empty" was found empty
 * by a consumer after the maintainer's last count (a publish since would have made it idle
 * again), so that count is stale: it shows 0 ready.
 */
export function registryCounts(
  q: Pick<QueueStatusEntry, 'state' | 'readyCount' | 'unackedCount'>,
): { ready: number; unacked: number } {
  return {
    ready: q.state === 'empty' ? 0 : (q.readyCount ?? 0),
    unacked: q.unackedCount ?? 0,
  };
}
