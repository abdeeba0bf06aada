/** Prometheus metrics of the dispatcher. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface DispatcherMetrics {
  next: Counter<'result'>;
  releases: Counter<'result'>;
  renewals: Counter<'result'>;
  expired: Counter;
  hints: Counter;
  claimSeconds: Histogram;
  batchSize: Histogram;
  fallback: Gauge;
  stopped: Gauge;
  waiting: Gauge;
}

export function createDispatcherMetrics(registry: Registry): DispatcherMetrics {
  const registers = [registry];
  return {
    next: new Counter({
      name: 'ingest_dispatcher_next_total',
      help: 'POST /queue/next answers by result (granted, empty, stopped)',
      labelNames: ['result'],
      registers,
    }),
    releases: new Counter({
      name: 'ingest_dispatcher_releases_total',
      help: 'releases by result (released, not-held, not-found)',
      labelNames: ['result'],
      registers,
    }),
    renewals: new Counter({
      name: 'ingest_dispatcher_renewals_total',
      help: 'lease renewals by result (renewed, not-held, not-found)',
      labelNames: ['result'],
      registers,
    }),
    expired: new Counter({
      name: 'ingest_dispatcher_expired_leases_total',
      help: 'leases given back by the dispatcher sweep because they expired',
      registers,
    }),
    hints: new Counter({
      name: 'ingest_dispatcher_publish_hints_total',
      help: 'publish hints applied (queues marked as having messages ahead of the maintainer counts)',
      registers,
    }),
    batchSize: new Histogram({
      name: 'ingest_dispatcher_claim_batch_size',
      help: 'next requests served by one registry statement (concurrent requests are coalesced)',
      buckets: [1, 2, 4, 8, 16, 32],
      registers,
    }),
    claimSeconds: new Histogram({
      name: 'ingest_dispatcher_claim_seconds',
      help: 'time to claim for one POST /queue/next (registry statement, including waiting for its batch)',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5],
      registers,
    }),
    fallback: new Gauge({
      name: 'ingest_dispatcher_fifo_fallback',
      help: '1 while the maintainer heartbeat is stale and messages-first falls back to fifo',
      registers,
    }),
    stopped: new Gauge({
      name: 'ingest_dispatcher_stopped',
      help: '1 after POST /stop on this dispatcher (the flag is shared through the registry)',
      registers,
    }),
    waiting: new Gauge({
      name: 'ingest_dispatcher_waiting_consumers',
      help: 'POST /queue/next requests parked waiting for a queue with messages (long-poll)',
      registers,
    }),
  };
}
