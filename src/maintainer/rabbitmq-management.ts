/**
 * The RabbitMQ management HTTP API, when the plugin is enabled: per-queue
 * ready/unacked counts and publish/deliver/ack counters and rates in one call.
 * Optional everywhere: callers fall back to checkQueue when it is unreachable.
 */
import { IngestError, errorMessage } from '../core/errors.js';

export interface ManagementQueue {
  name: string;
  ready: number;
  unacked: number;
  consumers: number;
  /** Cumulative counters (for rates from successive samples). */
  published: number | null;
  delivered: number | null;
  acked: number | null;
  /** The broker's own rates (messages/s), when it reports them. */
  publishRate: number | null;
  deliverRate: number | null;
  ackRate: number | null;
}

export interface ManagementApi {
  readonly url: string;
  /** Queues of the vhost whose name starts with `prefix`. Throws BROKER_UNAVAILABLE when unreachable. */
  queues(prefix?: string): Promise<ManagementQueue[]>;
}

type Json = Record<string, unknown>;

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function field(obj: unknown, ...path: string[]): unknown {
  let cur: unknown = obj;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Json)[k];
  }
  return cur;
}

/** Pure: one element of GET /api/queues/{vhost} -> our shape. */
export function parseManagementQueue(q: unknown): ManagementQueue | null {
  const name = field(q, 'name');
  if (typeof name !== 'string') return null;
  const stats = field(q, 'message_stats');
  const deliveredGet = num(field(stats, 'deliver_get'));
  return {
    name,
    ready: num(field(q, 'messages_ready')) ?? 0,
    unacked: num(field(q, 'messages_unacknowledged')) ?? 0,
    consumers: num(field(q, 'consumers')) ?? 0,
    published: num(field(stats, 'publish')),
    delivered: deliveredGet ?? num(field(stats, 'deliver')),
    acked: num(field(stats, 'ack')),
    publishRate: num(field(stats, 'publish_details', 'rate')),
    deliverRate:
      num(field(stats, 'deliver_get_details', 'rate')) ??
      num(field(stats, 'deliver_details', 'rate')),
    ackRate: num(field(stats, 'ack_details', 'rate')),
  };
}

/** The vhost of an AMQP URL ("/" when the path is empty). */
export function vhostOf(amqpUrl: string): string {
  try {
    const path = new URL(amqpUrl).pathname;
    return path === '' || path === '/' ? '/' : decodeURIComponent(path.slice(1));
  } catch {
    return '/';
  }
}

export function createManagementApi(opts: {
  url: string;
  amqpUrl: string;
  timeoutMs?: number;
}): ManagementApi {
  const u = new URL(opts.url);
  const auth =
    u.username || u.password
      ? `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`
      : undefined;
  u.username = '';
  u.password = '';
  const base = u.toString().replace(/\/$/, '');
  const vhost = encodeURIComponent(vhostOf(opts.amqpUrl));
  return {
    url: base,
    async queues(prefix = '') {
      let res: Response;
      try {
        res = await fetch(`${base}/api/queues/${vhost}`, {
          headers: auth ? { authorization: auth } : {},
          signal: AbortSignal.timeout(opts.timeoutMs ?? 2_000),
        });
      } catch (err) {
        throw new IngestError(
          'BROKER_UNAVAILABLE',
          `RabbitMQ management API unreachable at ${base}: ${errorMessage(err)}`,
          { cause: err },
        );
      }
      if (!res.ok)
        throw new IngestError(
          'BROKER_UNAVAILABLE',
          `RabbitMQ management API at ${base} answered HTTP ${res.status}`,
        );
      const body = (await res.json()) as unknown;
      if (!Array.isArray(body)) return [];
      return body
        .map(parseManagementQueue)
        .filter((q): q is ManagementQueue => q !== null && q.name.startsWith(prefix));
    },
  };
}
