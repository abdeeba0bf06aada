/**
 * Alert configuration cached in a process and re-read only when its version
 * moves (a trigger on alert_rules and alert_endpoints bumps it, migration 003).
 * The version is checked at most once per `checkEveryMs`, so a change applies
 * within about that; concurrent callers share one reload.
 */
import type pg from 'pg';
import { configVersion } from './alerts.repo.js';

type Db = Pick<pg.Pool, 'query'>;

export interface VersionedCache<T> {
  /** The cached value, re-checked when the last check is older than checkEveryMs. */
  get(): Promise<T>;
  /** Check the version now (and reload if it moved). */
  refresh(): Promise<void>;
}

export function createVersionedCache<T>(deps: {
  pool: Db;
  load: (db: Db) => Promise<T>;
  checkEveryMs?: number;
}): VersionedCache<T> {
  const every = deps.checkEveryMs ?? 1_000;
  let version = -1;
  let checkedAt = 0;
  let value: T | undefined;
  let pending: Promise<void> | undefined;

  async function load(): Promise<void> {
    const v = await configVersion(deps.pool);
    checkedAt = Date.now();
    if (v === version && value !== undefined) return;
    value = await deps.load(deps.pool);
    version = v;
  }

  function refresh(): Promise<void> {
    pending ??= load().finally(() => (pending = undefined));
    return pending;
  }

  return {
    refresh,
    async get() {
      if (value === undefined || Date.now() - checkedAt >= every) await refresh();
      return value!;
    },
  };
}
