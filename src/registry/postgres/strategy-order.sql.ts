import type { Strategy } from '../registry.js';

/** ORDER BY of the idle-queue pick, per claim strategy. */
export const ORDER: Record<Strategy, string> = {
  fifo: 'last_delivered_at NULLS FIRST, id',
  'messages-first': 'has_messages DESC, last_delivered_at NULLS FIRST, id',
};
