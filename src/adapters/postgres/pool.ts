/** PostgreSQL connections: a pool per process, and creating the database itself. */
import pg from 'pg';
import { IngestError, errorMessage } from '../../core/errors.js';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

// Return int8/numeric counts as numbers (our counts stay far below 2^53).
pg.types.setTypeParser(20, (v) => Number(v));

export function createPgPool(
  url: string,
  opts: { max?: number; application?: string } = {},
): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    application_name: opts.application ?? 'ingest',
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection must not crash the process.
  pool.on('error', () => undefined);
  // Nor one that is checked out: its query in flight fails with the error (and the caller
  // releases it as broken); without a listener the 'error' event would throw.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

export function databaseName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!name) throw new IngestError('CONFIG_INVALID', `no database name in PostgreSQL URL`);
  return name;
}

/** The same server, another database (the maintenance db "postgres" by default). */
export function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(db)}`;
  return u.toString();
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** CREATE DATABASE when it does not exist. Returns true when it was created. */
export async function ensureDatabase(url: string): Promise<boolean> {
  const name = databaseName(url);
  const admin = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  try {
    await admin.connect();
  } catch (err) {
    throw new IngestError(
      'DATABASE_UNAVAILABLE',
      `cannot connect to PostgreSQL: ${errorMessage(err)}`,
      {
        cause: err,
      },
    );
  }
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    try {
      await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
    } catch (err) {
      // Another process created it between our check and our CREATE.
      if ((err as { code?: string }).code !== '42P04') throw err;
      return false;
    }
    return true;
  } finally {
    await admin.end();
  }
}

export async function dropDatabase(url: string): Promise<void> {
  const name = databaseName(url);
  const admin = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** Run fn in a transaction on one client; rolls back on any error. */
export async function inTransaction<T>(
  pool: pg.Pool,
  fn: (c: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw err;
  } finally {
    // A connection that cannot even roll back is lost: the pool must not hand it out again.
    client.release(broken);
  }
}
