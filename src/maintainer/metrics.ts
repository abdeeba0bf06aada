/** Prometheus metrics of the maintainer: every step counted and timed. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface MaintainerMetrics {
  passes: Counter<'result'>;
  steps: Counter<'step' | 'result'>;
  stepSeconds: Histogram<'step'>;
  queuesCreated: Counter;
  queuesFlaggedDeleted: Counter;
  queuesRemoved: Counter;
  leasesExpired: Counter;
  messages: Gauge;
}

export function createMaintainerMetrics(registry: Registry): MaintainerMetrics {
  const registers = [registry];
  return {
    passes: new Counter({
      name: 'ingest_maintainer_passes_total',
      help: 'maintainer passes by result',
      labelNames: ['result'],
      registers,
    }),
    steps: new Counter({
      name: 'ingest_maintainer_steps_total',
      help: 'maintainer steps by step and result',
      labelNames: ['step', 'result'],
      registers,
    }),
    stepSeconds: new Histogram({
      name: 'ingest_maintainer_step_seconds',
      help: 'duration of each maintainer step',
      labelNames: ['step'],
      buckets: [0.005, 0.02, 0.1, 0.5, 1, 5, 20],
      registers,
    }),
    queuesCreated: new Counter({
      name: 'ingest_maintainer_queues_created_total',
      help: 'registry entries created for new accounts',
      registers,
    }),
    queuesFlaggedDeleted: new Counter({
      name: 'ingest_maintainer_queues_flagged_deleted_total',
      help: 'queues flagged deleted (account deactivated or removed)',
      registers,
    }),
    queuesRemoved: new Counter({
      name: 'ingest_maintainer_queues_removed_total',
      help: 'deleted queues removed from RabbitMQ and the registry',
      registers,
    }),
    leasesExpired: new Counter({
      name: 'ingest_maintainer_leases_expired_total',
      help: 'expired leases given back',
      registers,
    }),
    messages: new Gauge({
      name: 'ingest_maintainer_messages',
      help: 'messages in account queues at the last count',
      registers,
    }),
  };
}
