/**
 * Alert endpoints by name, cached in the notifier (see config-cache.ts): one
 * version check a second instead of a query per delivery. A name the cache does
 * not know is checked against the database once more before it counts as gone
 * (it may have been added a moment ago).
 */
import type pg from 'pg';
import { listEndpoints, type AlertEndpoint } from './alerts.repo.js';
import { createVersionedCache } from './config-cache.js';

export interface EndpointCache {
  endpoint(name: string): Promise<AlertEndpoint | undefined>;
}

export function createEndpointCache(deps: {
  pool: Pick<pg.Pool, 'query'>;
  checkEveryMs?: number;
}): EndpointCache {
  const cache = createVersionedCache({
    ...deps,
    load: async (db) => new Map((await listEndpoints(db)).map((e) => [e.name, e])),
  });
  return {
    async endpoint(name) {
      const hit = (await cache.get()).get(name);
      if (hit) return hit;
      await cache.refresh();
      return (await cache.get()).get(name);
    },
  };
}
