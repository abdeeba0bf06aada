/** Prometheus metrics of a consumer (or notifier) process, and the small server that serves them. */
import Fastify from 'fastify';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { addMetricsRoute, createMetricsRegistry } from '../http/metrics.js';
import type { DispatcherState } from './consumer-loop.js';

export interface ConsumerMetrics {
  registry: Registry;
  messages: Counter<'outcome'>;
  values: Counter<'outcome'>;
  commitSeconds: Histogram;
  lagSeconds: Histogram;
  dispatcher: Gauge<'state'>;
  notifications: Counter;
  setDispatcherState(s: DispatcherState): void;
}

export function createConsumerMetrics(): ConsumerMetrics {
  const registry = createMetricsRegistry('consumer');
  const messages = new Counter({
    name: 'ingest_consumer_messages_total',
    help: 'readings messages taken from queues, by outcome (stored, duplicate, dead)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const values = new Counter({
    name: 'ingest_consumer_values_total',
    help: 'values offered to storage, by outcome (inserted, duplicate)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const commitSeconds = new Histogram({
    name: 'ingest_consumer_commit_seconds',
    help: 'time of one storage transaction',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const lagSeconds = new Histogram({
    name: 'ingest_consumer_lag_seconds',
    help: 'frontend receipt to commit, per message',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const dispatcher = new Gauge({
    name: 'ingest_consumer_dispatcher_state',
    help: '1 for the current state of the dispatcher as this consumer sees it',
    labelNames: ['state'],
    registers: [registry],
  });
  const notifications = new Counter({
    name: 'ingest_consumer_notifications_total',
    help: 'alert notifications created',
    registers: [registry],
  });
  return {
    registry,
    messages,
    values,
    commitSeconds,
    lagSeconds,
    dispatcher,
    notifications,
    setDispatcherState(s) {
      for (const k of ['unknown', 'ok', 'stopped', 'unreachable', 'failing'] as const)
        dispatcher.set({ state: k }, k === s ? 1 : 0);
    },
  };
}

/** GET /metrics and /health on their own port (components without an HTTP API). */
export async function startMetricsServer(
  registry: Registry,
  host: string,
  port: number,
): Promise<{ url: string; close(): Promise<void> }> {
  const app = Fastify({ logger: false });
  addMetricsRoute(app, registry);
  app.get(
    '/health',
    { schema: { response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } } } },
    async () => ({ ok: true }),
  );
  const url = await app.listen({ host, port });
  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      closing ??= app.close();
      return closing;
    },
  };
}
