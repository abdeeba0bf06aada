import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyMigrations,
  pendingMigrations,
  refuseOutdatedSchema,
} from '../../../src/adapters/postgres/migrate.js';
import { createPgPool, withDatabase } from '../../../src/adapters/postgres/pool.js';
import { silentLogger } from '../../../src/core/logger.js';
import { createMaintainerFromConfig } from '../../../src/maintainer/run.js';
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

  it('a component refuses a database behind its version, naming the migrations and the fix', async () => {
    const last = MIGRATIONS[MIGRATIONS.length - 1]!.name;
    expect(await pendingMigrations(env.pool)).toEqual([]);
    await env.pool.query('DELETE FROM schema_migrations WHERE name = $1', [last]);
    try {
      expect(await pendingMigrations(env.pool)).toEqual([last]);
      const expected = `the database lacks 1 migration(s) of this version of ingest (${last}): run \`ingest db migrate\` (with the same settings)`;
      await expect(refuseOutdatedSchema(env.pool)).rejects.toThrow(expected);
      // The maintainer would otherwise fail a step on every pass.
      await expect(
        createMaintainerFromConfig({ config: env.config, logger: silentLogger() }),
      ).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expected });
    } finally {
      await env.pool.query('INSERT INTO schema_migrations (name) VALUES ($1)', [last]);
    }
    // Never migrated: all of them. Unreachable: it cannot tell (components wait for it).
    const bare = createPgPool(withDatabase(env.config.pgUrl, 'postgres'));
    try {
      expect(await pendingMigrations(bare)).toEqual(MIGRATIONS.map((m) => m.name));
    } finally {
      await bare.end();
    }
    const away = createPgPool('postgres://postgres@127.0.0.1:9/nowhere');
    try {
      expect(await pendingMigrations(away)).toBeUndefined();
    } finally {
      await away.end();
    }
  });
});
