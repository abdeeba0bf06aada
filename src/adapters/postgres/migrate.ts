/** `ingest db migrate`: create the database if missing, apply pending migrations once. */
import type pg from 'pg';
import { MIGRATIONS, type Migration } from './migrations/index.js';
import { createPgPool, ensureDatabase } from './pool.js';
import { missingSetupError, pgCode } from './pg-errors.js';
import { IngestError } from '../../core/errors.js';

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

/**
 * Migrations of this version the database has not applied (all of them when it was never
 * migrated), or undefined when it cannot tell (PostgreSQL unreachable: the components
 * start anyway and wait for it).
 */
export async function pendingMigrations(
  pool: pg.Pool,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<string[] | undefined> {
  let done: Set<string>;
  try {
    const r = await pool.query<{ name: string }>('SELECT name FROM schema_migrations');
    done = new Set(r.rows.map((x) => x.name));
  } catch (err) {
    if (pgCode(err) === '42P01') done = new Set();
    else {
      const setup = missingSetupError(err);
      if (setup) throw setup;
      return undefined;
    }
  }
  return migrations.map((m) => m.name).filter((n) => !done.has(n));
}

/**
 * A long-running component refuses to start on a database behind its version (an upgrade
 * whose `ingest db migrate` was not run): it would otherwise fail a step on every pass.
 */
export async function refuseOutdatedSchema(pool: pg.Pool): Promise<void> {
  const pending = await pendingMigrations(pool);
  if (!pending?.length) return;
  throw new IngestError(
    'CONFIG_INVALID',
    `the database lacks ${pending.length} migration(s) of this version of ingest (${pending.join(', ')}): run \`ingest db migrate\` (with the same settings)`,
  );
}
