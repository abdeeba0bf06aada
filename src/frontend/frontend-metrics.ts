/** The frontend's Prometheus metrics (aggregated across --workers by the cluster primary). */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export function createFrontendMetrics(registry: Registry) {
  return {
    requests: new Counter({
      name: 'ingest_frontend_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'status'] as const,
      registers: [registry],
    }),
    readingsAccepted: new Counter({
      name: 'ingest_frontend_readings_accepted_total',
      help: 'readings confirmed durable in their account queue',
      registers: [registry],
    }),
    readingsRejected: new Counter({
      name: 'ingest_frontend_readings_rejected_total',
      help: 'readings in requests that were refused after their body was read (400, 429, 503)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    messagesPublished: new Counter({
      name: 'ingest_frontend_messages_published_total',
      help: 'messages confirmed by the broker',
      registers: [registry],
    }),
    confirmSeconds: new Histogram({
      name: 'ingest_frontend_publish_confirm_seconds',
      help: 'time from publish to broker confirm, per message',
      buckets: [0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    publishFailures: new Counter({
      name: 'ingest_frontend_publish_failures_total',
      help: 'publishes not confirmed (nack, unroutable, timeout, broker unavailable), by code',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    statsFailures: new Counter({
      name: 'ingest_frontend_stats_failures_total',
      help: 'per-gateway stats updates that failed after the request was already durable',
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: 'ingest_frontend_in_flight_requests',
      help: 'readings requests being handled',
      registers: [registry],
    }),
  };
}

export type FrontendMetrics = ReturnType<typeof createFrontendMetrics>;
