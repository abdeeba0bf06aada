import type { QueueEntry } from '../registry.js';
import type { Statement } from './statement.js';

/** $1 queue. */
export const EXISTS: Statement = {
  name: 'registry-exists',
  text: 'SELECT 1 FROM queue_registry WHERE id = $1',
};

export const LIST: Statement = { text: 'SELECT * FROM queue_registry ORDER BY id' };

/** $1 queue. */
export const GET: Statement = { text: 'SELECT * FROM queue_registry WHERE id = $1' };

/** The database's time (a count's start, compared with publish-hint times). */
export const NOW: Statement = { name: 'registry-now', text: 'SELECT now() AS now' };

/** $1 queue. */
export const REMOVE: Statement = { text: 'DELETE FROM queue_registry WHERE id = $1' };

/** A queue_registry row, as `SELECT *` returns it. */
export interface EntryRow {
  id: string;
  state: QueueEntry['state'];
  deleted: boolean;
  deleted_at: Date | null;
  message_count: number;
  ready_count: number;
  unacked_count: number;
  has_messages: boolean;
  consumer: string | null;
  lease_id: string | null;
  leased_at: Date | null;
  lease_expires_at: Date | null;
  last_delivered_at: Date | null;
  counted_at: Date | null;
  hinted_at: Date | null;
  updated_at: Date;
}
