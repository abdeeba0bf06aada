/** A queue's message counts as `GET /queue/status` reports them. */
import type { QueueStatusEntry } from './client.js';

/**
 * Ready, unacked and all messages from the registry. A queue in state "empty" was found
 * empty by a consumer after the maintainer's last count (a publish since would have made it
 * idle again), so that count is stale: it shows 0 ready.
 */
export function registryCounts(
  q: Pick<QueueStatusEntry, 'state' | 'readyCount' | 'unackedCount' | 'messageCount'>,
): { ready: number; unacked: number; total: number } {
  const unacked = q.unackedCount ?? 0;
  if (q.state === 'empty') return { ready: 0, unacked, total: unacked };
  const ready = q.readyCount ?? 0;
  return { ready, unacked, total: q.messageCount ?? ready + unacked };
}
