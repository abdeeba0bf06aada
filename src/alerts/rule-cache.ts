/**
 * Rules per account, cached in the consumer and re-read when the config
 * version (bumped by a trigger on rules and endpoints) moves; the version is
 * checked at most once per `checkEveryMs`.
 */
import type pg from 'pg';
import { configVersion, listRules, type AlertRule } from './alerts.repo.js';

export interface RuleCache {
  rulesFor(account: string): Promise<readonly AlertRule[]>;
  refresh(): Promise<void>;
}

export function createRuleCache(deps: {
  pool: Pick<pg.Pool, 'query'>;
  checkEveryMs?: number;
}): RuleCache {
  const every = deps.checkEveryMs ?? 1_000;
  let version = -1;
  let checkedAt = 0;
  let byAccount = new Map<string, AlertRule[]>();
  let pending: Promise<void> | undefined;

  async function load(): Promise<void> {
    const v = await configVersion(deps.pool);
    checkedAt = Date.now();
    if (v === version) return;
    const rules = await listRules(deps.pool);
    const map = new Map<string, AlertRule[]>();
    for (const r of rules) {
      const list = map.get(r.account) ?? [];
      list.push(r);
      map.set(r.account, list);
    }
    byAccount = map;
    version = v;
  }

  async function refresh(): Promise<void> {
    pending ??= load().finally(() => (pending = undefined));
    return pending;
  }

  return {
    refresh,
    async rulesFor(account) {
      if (Date.now() - checkedAt >= every) await refresh();
      return byAccount.get(account) ?? [];
    },
  };
}
