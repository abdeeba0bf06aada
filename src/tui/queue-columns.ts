/** The columns of the queues table, shared by the dashboard and `ingest queues --watch`. */
import type { QueueRow } from '../admin/pipeline-status.js';
import { fmtAge, fmtCount, fmtRate, type Column } from './format.js';

export const STATE_COLORS: Record<string, string | undefined> = {
  busy: 'green',
  paused: 'yellow',
  deleted: 'red',
  empty: 'gray',
  idle: undefined,
};

export const QUEUE_COLUMNS: readonly Column<QueueRow>[] = [
  { header: 'QUEUE', width: 12, cell: (r) => r.id },
  { header: 'STATE', width: 7, cell: (r) => r.state },
  { header: 'READY', width: 7, align: 'right', cell: (r) => fmtCount(r.ready) },
  { header: 'UNACKED', width: 7, align: 'right', cell: (r) => fmtCount(r.unacked) },
  { header: 'TOTAL', width: 7, align: 'right', cell: (r) => fmtCount(r.total) },
  { header: 'CONSUMER', width: 10, flex: true, cell: (r) => r.consumer ?? '' },
  { header: 'LEASE', width: 6, align: 'right', cell: (r) => fmtAge(r.leaseAgeMs) },
];

/** A queue row with the rates `ingest queues` shows (from successive samples). */
export interface WatchRow extends QueueRow {
  incomingPerSec?: number | undefined;
  deliverPerSec?: number | undefined;
  ackPerSec?: number | undefined;
}

export const WATCH_COLUMNS: readonly Column<WatchRow>[] = [
  { header: 'QUEUE', width: 10, cell: (r) => r.id },
  { header: 'STATE', width: 7, cell: (r) => r.state },
  { header: 'READY', width: 6, align: 'right', cell: (r) => fmtCount(r.ready) },
  { header: 'UNACKED', width: 7, align: 'right', cell: (r) => fmtCount(r.unacked) },
  { header: 'TOTAL', width: 6, align: 'right', cell: (r) => fmtCount(r.total) },
  { header: 'IN/S', width: 6, align: 'right', cell: (r) => fmtRate(r.incomingPerSec) },
  { header: 'DELIV/S', width: 7, align: 'right', cell: (r) => fmtRate(r.deliverPerSec) },
  { header: 'ACK/S', width: 6, align: 'right', cell: (r) => fmtRate(r.ackPerSec) },
  { header: 'CONSUMER', width: 10, flex: true, cell: (r) => r.consumer ?? '' },
  { header: 'LEASE', width: 5, align: 'right', cell: (r) => fmtAge(r.leaseAgeMs) },
];
