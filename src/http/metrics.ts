/** Prometheus metrics: one registry per component, served at GET /metrics. */
import type { FastifyInstance } from 'fastify';
import { Registry, collectDefaultMetrics } from 'prom-client';

export function createMetricsRegistry(component: string, defaults = true): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ component });
  if (defaults) collectDefaultMetrics({ register: registry, prefix: 'ingest_' });
  return registry;
}

export function addMetricsRoute(app: FastifyInstance, registry: Registry): void {
  app.get('/metrics', async (_req, reply) => {
    void reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
}
