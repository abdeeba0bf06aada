/**
 * What the consumers and the notifier leave in PostgreSQL, read cheaply enough
 * to poll every second: rows inserted into `readings` from the statistics
 * collector (no count(*) over a big table), failed alert deliveries of the last
 * hour through the index on `at`.
 */
import type pg from 'pg';

export interface StorageCounters {
  at: number;
  /** Rows inserted into readings (and its partitions) since statistics were reset. */
  rowsInserted: number;
  /** Estimated rows in readings. */
  rowsEstimate: number;
  deliveriesFailedLastHour: number | undefined;
  deliveriesDeadLastHour: number | undefined;
}

const ROWS_SQL = `
SELECT COALESCE(sum(n_tup_ins), 0)::bigint AS inserted, COALESCE(sum(n_live_tup), 0)::bigint AS live
  FROM pg_stat_user_tables
 WHERE schemaname NOT LIKE 'pg_temp%'
   AND (relname = 'readings'
        OR relid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = to_regclass('readings')))`;

const DELIVERIES_SQL = `
SELECT outcome, count(*)::bigint AS n
  FROM alert_deliveries
 WHERE at > now() - interval '1 hour' AND outcome <> 'delivered'
 GROUP BY outcome`;

export async function readStorageCounters(
  pool: pg.Pool,
  at = Date.now(),
): Promise<StorageCounters> {
  const rows = await pool.query<{ inserted: number; live: number }>(ROWS_SQL);
  let failed: number | undefined;
  let dead: number | undefined;
  const hasDeliveries = await pool.query<{ t: string | null }>(
    `SELECT to_regclass('alert_deliveries')::text AS t`,
  );
  if (hasDeliveries.rows[0]?.t) {
    const d = await pool.query<{ outcome: string; n: number }>(DELIVERIES_SQL);
    failed = Number(d.rows.find((r) => r.outcome === 'failed')?.n ?? 0);
    dead = Number(d.rows.find((r) => r.outcome === 'dead')?.n ?? 0);
  }
  return {
    at,
    rowsInserted: Number(rows.rows[0]?.inserted ?? 0),
    rowsEstimate: Number(rows.rows[0]?.live ?? 0),
    deliveriesFailedLastHour: failed,
    deliveriesDeadLastHour: dead,
  };
}
