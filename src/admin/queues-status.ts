/**
 * `ingest queues` as a use-case shared by the CLI and the TUI: one sample is
 * the dispatcher's GET /queue/status (registry state, counts from the
 * maintainer, consumer, lease) joined with RabbitMQ's counts and rates from
 * the management API when it is reachable. Rates come from successive samples
 * of the broker's cumulative counters (the broker's own rates on the first).
 */
import type { Config } from '../core/config.js';
import { errorMessage } from '../core/errors.js';
import { registryCounts } from '../dispatcher/queue-counts.js';
import {
  createDispatcherClient,
  type DispatcherClient,
  type DispatcherStatus,
  type DisplayState,
  type QueueStatusResponse,
} from '../dispatcher/client.js';
import {
  createManagementApi,
  type ManagementApi,
  type ManagementQueue,
} from '../maintainer/rabbitmq-management.js';

export interface QueueStatusRow {
  id: string;
  state: DisplayState;
  ready: number;
  unacked: number;
  total: number;
  /** Messages/s; undefined when unknown (no management API, or first sample without broker rates). */
  incomingPerSec: number | undefined;
  deliverPerSec: number | undefined;
  ackPerSec: number | undefined;
  consumer: string | null;
  /** How long the current lease has been held (ms), null when not leased. */
  leaseAgeMs: number | null;
  /** When the counts were taken: by the maintainer (registry), or live from the broker. */
  countsFrom: 'registry' | 'broker';
  countedAt: string | null;
}

export type QueueSort = 'depth' | 'name' | 'state';
export const QUEUE_SORTS: readonly QueueSort[] = ['depth', 'name', 'state'];

export interface QueuesSnapshot {
  at: string;
  dispatcherUrl: string;
  dispatcher: DispatcherStatus;
  rows: QueueStatusRow[];
  rates: { source: 'management' | 'none'; note?: string };
}

export interface QueuesSamplerOptions {
  config: Pick<
    Config,
    'dispatcherUrl' | 'adminToken' | 'managementUrl' | 'amqpUrl' | 'queuePrefix'
  >;
  timeoutMs?: number;
  /** Leave out the management API (tests, or when it is known to be off). */
  noManagement?: boolean;
  now?: () => number;
}

export interface QueuesSampler {
  sample(): Promise<QueuesSnapshot>;
  close(): void;
}

const STATE_ORDER: Record<DisplayState, number> = {
  busy: 0,
  idle: 1,
  paused: 2,
  empty: 3,
  deleted: 4,
};

/** Pure: filter (case-insensitive substring of the id) and sort rows. */
export function selectRows(
  rows: readonly QueueStatusRow[],
  opts: { sort?: QueueSort; filter?: string } = {},
): QueueStatusRow[] {
  const f = opts.filter?.toLowerCase();
  const out = f ? rows.filter((r) => r.id.toLowerCase().includes(f)) : [...rows];
  const byName = (a: QueueStatusRow, b: QueueStatusRow): number => a.id.localeCompare(b.id);
  switch (opts.sort ?? 'depth') {
    case 'name':
      return out.sort(byName);
    case 'state':
      return out.sort((a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state] || byName(a, b));
    default:
      return out.sort((a, b) => b.total - a.total || byName(a, b));
  }
}

interface Counters {
  at: number;
  published: number | null;
  delivered: number | null;
  acked: number | null;
}

function rate(
  prev: number | null | undefined,
  cur: number | null,
  seconds: number,
): number | undefined {
  if (prev === null || prev === undefined || cur === null || seconds <= 0 || cur < prev)
    return undefined;
  return (cur - prev) / seconds;
}

/** Pure: rows from a status answer, broker counts (by queue name) and the previous counters. */
export function buildRows(
  status: QueueStatusResponse,
  broker: Map<string, ManagementQueue> | undefined,
  prev: Map<string, Counters>,
  queueName: (id: string) => string,
  now: number,
): { rows: QueueStatusRow[]; counters: Map<string, Counters> } {
  const counters = new Map<string, Counters>();
  const rows = status.queues.map((q): QueueStatusRow => {
    const m = broker?.get(queueName(q.id));
    let incoming: number | undefined;
    let deliver: number | undefined;
    let ack: number | undefined;
    if (m) {
      const p = prev.get(q.id);
      const secs = p ? (now - p.at) / 1000 : 0;
      incoming = rate(p?.published, m.published, secs) ?? m.publishRate ?? undefined;
      deliver = rate(p?.delivered, m.delivered, secs) ?? m.deliverRate ?? undefined;
      ack = rate(p?.acked, m.acked, secs) ?? m.ackRate ?? undefined;
      counters.set(q.id, {
        at: now,
        published: m.published,
        delivered: m.delivered,
        acked: m.acked,
      });
    }
    const { ready, unacked } = m ? m : registryCounts(q);
    return {
      id: q.id,
      state: q.state,
      ready,
      unacked,
      total: ready + unacked,
      incomingPerSec: incoming,
      deliverPerSec: deliver,
      ackPerSec: ack,
      consumer: q.consumer,
      leaseAgeMs: q.leasedAt && q.consumer ? Math.max(0, now - Date.parse(q.leasedAt)) : null,
      countsFrom: m ? 'broker' : 'registry',
      countedAt: m ? new Date(now).toISOString() : q.countedAt,
    };
  });
  return { rows, counters };
}

export function createQueuesSampler(opts: QueuesSamplerOptions): QueuesSampler {
  const { config } = opts;
  const now = opts.now ?? Date.now;
  const client: DispatcherClient = createDispatcherClient({
    url: config.dispatcherUrl,
    adminToken: config.adminToken,
    timeoutMs: opts.timeoutMs ?? 3_000,
    maxSockets: 2,
  });
  const management: ManagementApi | undefined =
    opts.noManagement || !config.managementUrl
      ? undefined
      : createManagementApi({
          url: config.managementUrl,
          amqpUrl: config.amqpUrl,
          timeoutMs: Math.min(opts.timeoutMs ?? 2_000, 2_000),
        });
  let prev = new Map<string, Counters>();
  let managementError: string | undefined;

  return {
    async sample() {
      const [status, broker] = await Promise.all([
        client.status(),
        management
          ? management.queues(config.queuePrefix).then(
              (list) => {
                managementError = undefined;
                return new Map(list.map((q) => [q.name, q]));
              },
              (err: unknown) => {
                managementError = errorMessage(err);
                return undefined;
              },
            )
          : Promise.resolve(undefined),
      ]);
      const t = now();
      const built = buildRows(status, broker, prev, (id) => `${config.queuePrefix}${id}`, t);
      prev = built.counters;
      return {
        at: new Date(t).toISOString(),
        dispatcherUrl: client.url,
        dispatcher: status.dispatcher,
        rows: built.rows,
        rates: broker
          ? { source: 'management' }
          : {
              source: 'none',
              note: `rates need the RabbitMQ management API (${managementError ?? 'not configured'}); counts are the maintainer's. Enable it with: rabbitmq-plugins enable rabbitmq_management`,
            },
      };
    },
    close() {
      client.close();
    },
  };
}
