/** `ingest db migrate`: create the database if missing, apply pending migrations once. */
import type pg from 'pg';
import { MIGRATIONS, type Migration } from './migrations/index.js';
import { createPgPool, ensureDatabase } from './pool.js';

// Two processes migrating at once (npm start beside a test run) wait on this.
const LOCK_KEY = 7_243_001;

export interface MigrateResult {
  createdDatabase: boolean;
  applied: string[];
  current: string[];
}

export async function applyMigrations(
  pool: pg.Pool,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<string[]> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set(
      (await client.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map(
        (r) => r.name,
      ),
    );
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.name)) continue;
      if (m.transaction === false) {
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (name) VALUES ($1)', [m.name]);
        } catch (err) {
          throw new Error(`migration ${m.name} failed: ${(err as Error).message}`, { cause: err });
        }
        applied.push(m.name);
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (name) VALUES ($1)', [m.name]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${m.name} failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(m.name);
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined);
    client.release();
  }
}

export async function migrate(url: string): Promise<MigrateResult> {
  const createdDatabase = await ensureDatabase(url);
  const pool = createPgPool(url, { max: 1, application: 'ingest-migrate' });
  try {
    const applied = await applyMigrations(pool);
    return { createdDatabase, applied, current: MIGRATIONS.map((m) => m.name) };
  } finally {
    await pool.end();
  }
}
