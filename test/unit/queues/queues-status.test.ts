import { describe, expect, it } from 'vitest';
import { buildRows, selectRows } from '../../../src/admin/queues-status.js';
import { queueRows } from '../../../src/admin/pipeline-status.js';
import type { QueueStatusResponse, QueueStatusEntry } from '../../../src/dispatcher/client.js';
import type { ManagementQueue } from '../../../src/maintainer/rabbitmq-management.js';

function entry(id: string, over: Partial<QueueStatusEntry> = {}): QueueStatusEntry {
  return {
    id,
    state: 'idle',
    registryState: 'idle',
    deleted: false,
    messageCount: 5,
    readyCount: 5,
    unackedCount: 0,
    hasMessages: true,
    consumer: null,
    leasedAt: null,
    leaseExpiresAt: null,
    lastDeliveredAt: null,
    countedAt: '2026-01-01T00:00:00.000Z',
    deletedAt: null,
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}

function status(queues: QueueStatusEntry[]): QueueStatusResponse {
  return {
    dispatcher: {
      state: 'running',
      strategy: 'fifo',
      effectiveStrategy: 'fifo',
      fallback: false,
      maintainer: { alive: true, lastHeartbeat: null, ageMs: 0, staleAfterMs: 30_000 },
      leaseTimeoutMs: 60_000,
    },
    queues,
    totals: { queues: queues.length, busy: 0, paused: 0, deleted: 0, messages: 0 },
    generatedAt: '',
  };
}

function mq(name: string, published: number, delivered: number, acked: number): ManagementQueue {
  return {
    name,
    ready: 10,
    unacked: 3,
    consumers: 1,
    published,
    delivered,
    acked,
    publishRate: 99,
    deliverRate: 98,
    ackRate: 97,
  };
}

describe('queue rows', () => {
  it("a queue a consumer found empty after the maintainer's count shows 0 ready, not the stale count", () => {
    const st = status([
      entry('E', { state: 'empty', hasMessages: false, readyCount: 3, messageCount: 3 }),
      entry('I', { readyCount: 3, messageCount: 3 }),
    ]);
    const { rows } = buildRows(st, undefined, new Map(), (id) => id, 0);
    expect(rows.map((r) => [r.id, r.state, r.ready, r.total])).toEqual([
      ['E', 'empty', 0, 0],
      ['I', 'idle', 3, 3],
    ]);
    // The dashboard's queue panel says the same, and sorts by it.
    expect(queueRows(st.queues, 0).map((r) => [r.id, r.state, r.ready, r.total])).toEqual([
      ['I', 'idle', 3, 3],
      ['E', 'empty', 0, 0],
    ]);
  });

  it('first sample: the broker rates; then rates from successive counters', () => {
    const st = status([entry('A', { consumer: 'w', leasedAt: new Date(1_000).toISOString() })]);
    const first = buildRows(
      st,
      new Map([['p.A', mq('p.A', 100, 50, 40)]]),
      new Map(),
      (id) => `p.${id}`,
      3_000,
    );
    expect(first.rows[0]).toMatchObject({
      ready: 10,
      unacked: 3,
      total: 13,
      incomingPerSec: 99,
      deliverPerSec: 98,
      ackPerSec: 97,
      leaseAgeMs: 2_000,
      countsFrom: 'broker',
    });
    const second = buildRows(
      st,
      new Map([['p.A', mq('p.A', 120, 60, 45)]]),
      first.counters,
      (id) => `p.${id}`,
      5_000,
    );
    expect(second.rows[0]).toMatchObject({ incomingPerSec: 10, deliverPerSec: 5, ackPerSec: 2.5 });
  });

  it('without the broker: the maintainer counts, no rates', () => {
    const r = buildRows(status([entry('A')]), undefined, new Map(), (id) => id, 0);
    expect(r.rows[0]).toMatchObject({
      ready: 5,
      total: 5,
      incomingPerSec: undefined,
      countsFrom: 'registry',
    });
  });

  it('sort by state puts busy first, deleted last', () => {
    const rows = buildRows(
      status([
        entry('d', { state: 'deleted' }),
        entry('b', { state: 'busy' }),
        entry('e', { state: 'empty' }),
        entry('p', { state: 'paused' }),
      ]),
      undefined,
      new Map(),
      (id) => id,
      0,
    ).rows;
    expect(selectRows(rows, { sort: 'state' }).map((r) => r.id)).toEqual(['b', 'p', 'e', 'd']);
  });
});
