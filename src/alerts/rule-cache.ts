/** Alert rules per account, cached in the consumer (see config-cache.ts). */
import type pg from 'pg';
import { listRules, type AlertRule } from './alerts.repo.js';
import { createVersionedCache } from './config-cache.js';

export interface RuleCache {
  rulesFor(account: string): Promise<readonly AlertRule[]>;
  refresh(): Promise<void>;
}

export function createRuleCache(deps: {
  pool: Pick<pg.Pool, 'query'>;
  checkEveryMs?: number;
}): RuleCache {
  const cache = createVersionedCache({
    ...deps,
    load: async (db) => {
      const map = new Map<string, AlertRule[]>();
      for (const r of await listRules(db)) {
        const list = map.get(r.account) ?? [];
        list.push(r);
        map.set(r.account, list);
      }
      return map;
    },
  });
  return {
    refresh: () => cache.refresh(),
    async rulesFor(account) {
      return (await cache.get()).get(account) ?? [];
    },
  };
}
