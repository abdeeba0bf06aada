import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations } from '../../../src/adapters/postgres/migrate.js';
import { MIGRATIONS } from '../../../src/adapters/postgres/migrations/index.js';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';

describe('migrations (real PostgreSQL)', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv();
  });
  afterAll(async () => env.cleanup());

  it('applies every migration once and is idempotent', async () => {
    const { rows } = await env.pool.query<{ name: string }>(
      'SELECT name FROM schema_migrations ORDER BY name',
    );
    expect(rows.map((r) => r.name)).toEqual(MIGRATIONS.map((m) => m.name));
    expect(await applyMigrations(env.pool)).toEqual([]);
    // Built outside a transaction (CONCURRENTLY), and valid.
    const idx = await env.pool.query<{ valid: boolean }>(
      `SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE c.relname = 'consumed_messages_stored_at_idx'`,
    );
    expect(idx.rows).toEqual([{ valid: true }]);
  });

  it('stores the same reading twice as one row', async () => {
    const insert = `INSERT INTO readings (source_key, device, param, ts, value)
      VALUES ('GW', '12', 402, '2015-04-21T23:15:00+00:00', 1) ON CONFLICT DO NOTHING`;
    await env.pool.query(insert);
    await env.pool.query(insert);
    const { rows } = await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM readings');
    expect(rows[0]?.n).toBe(1);
  });
});
