import type { Strategy } from '../registry.js';

/** ORDER BY of the idle-queue pick, per claim strategy. */
export const ORDER: Record<Strategy, string> = {
  fifo: 'last_delivered_at NULLS FIRST, id',
  'messages-first': 'has_messages DESC, last_delivered_at NULLS FIRST, id',
};

/** The pick's filter beyond "idle and not deleted": only queues known to hold messages. */
export function withMessagesFilter(withMessages: boolean | undefined): string {
  return withMessages ? ' AND has_messages' : '';
}
