#!/usr/bin/env node
// Write-path bench: each way of storing readings exactly once, side by side, on
// this machine, in a throwaway database. Run after `npm run build`:
//   node bench/write-path.js [rows=200000] [perTx=5] [concurrency=2]
import { migrate } from '../dist/adapters/postgres/migrate.js';
import { createPgPool, dropDatabase, withDatabase } from '../dist/adapters/postgres/pool.js';
import { measureWriteCeiling } from '../dist/loadtest/pipeline-write-ceiling.js';

const rows = Number(process.argv[2] ?? 200_000);
const perTx = Number(process.argv[3] ?? 5);
const concurrency = Number(process.argv[4] ?? 2);
const base = process.env.INGEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/ingest';
const url = withDatabase(base, `ingest_bench_${Date.now().toString(36)}`);
await migrate(url);
const pool = createPgPool(url, { max: concurrency + 1, application: 'ingest-bench' });
try {
  const results = await measureWriteCeiling(pool, {
    paths: ['copy', 'copy-ledger', 'staging', 'unnest'],
    rows,
    perTx,
    concurrency,
    duplicates: true,
  });
  console.table(results);
} finally {
  await pool.end();
  await dropDatabase(url);
}
