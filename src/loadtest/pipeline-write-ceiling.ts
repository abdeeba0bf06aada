/**
 * The raw ceiling of each write path on this machine: messages of realistic
 * readings stored straight into PostgreSQL (no broker, no HTTP), one transaction
 * per group of messages, like the consumer does. Used by `ingest loadtest
 * pipeline` (same run) and by bench/write-path.js (all paths side by side).
 */
import type pg from 'pg';
import { inTransaction } from '../adapters/postgres/pool.js';
import { checkReadingsBody } from '../core/readings-body.js';
import type { Reading } from '../core/readings.js';
import { makeReadings } from './readings-generator.js';
import {
  createReadingsStore,
  type StoreMessage,
  type WritePath,
} from '../consumer/readings-store.js';

export interface CeilingResult {
  path: WritePath;
  scenario: 'fresh' | 'replay-same' | 'overlap';
  rows: number;
  inserted: number;
  ms: number;
  rowsPerSec: number;
}

/** A store message of these readings, its body checked as the consumer checks one. */
function storeMessage(readings: Reading[], messageId: string, sourceKey: string): StoreMessage {
  const body = checkReadingsBody(Buffer.from(JSON.stringify(readings)));
  if (!body.ok) throw new Error(`generated readings are invalid: ${body.reason}`);
  return {
    messageId,
    sourceKey,
    account: 'BENCH',
    body,
    receivedAt: Date.now(),
    valueCount: body.values,
  };
}

/** Readings of `count` messages of `readingsPerMessage` readings (2 values each), all distinct. */
function makeMessageReadings(count: number, readingsPerMessage: number, run: string): Reading[][] {
  return Array.from({ length: count }, (_, m) =>
    makeReadings(readingsPerMessage, { device: (i) => `${run}-${m}-${i % 250}` }),
  );
}

/** Messages of `readingsPerMessage` readings (2 values each), all distinct, tagged by `run`. */
export function makeStoreMessages(
  count: number,
  readingsPerMessage: number,
  run: string,
): StoreMessage[] {
  return makeMessageReadings(count, readingsPerMessage, run).map((readings, m) =>
    storeMessage(readings, `${run}-${m}`, `BC:6A:29:${run}`),
  );
}

async function storeAll(
  pool: pg.Pool,
  path: WritePath,
  messages: StoreMessage[],
  perTx: number,
  concurrency: number,
): Promise<{ inserted: number; ms: number }> {
  const store = createReadingsStore(path);
  let next = 0;
  let inserted = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < messages.length) {
        const group = messages.slice(next, next + perTx);
        next += perTx;
        const r = await inTransaction(pool, (c) => store.store(c, group));
        inserted += r.inserted;
      }
    }),
  );
  return { inserted, ms: performance.now() - t0 };
}

export interface CeilingOptions {
  paths: readonly WritePath[];
  /** Total values per measurement. */
  rows: number;
  readingsPerMessage?: number;
  /** Messages per transaction. */
  perTx?: number;
  concurrency?: number;
  /** Also measure a replay of the same messages and an overlapping resend. */
  duplicates?: boolean;
}

/** Measure each path; the table needs to be empty of these runs' keys (tags are unique). */
export async function measureWriteCeiling(
  pool: pg.Pool,
  opts: CeilingOptions,
): Promise<CeilingResult[]> {
  const rpm = opts.readingsPerMessage ?? 1_000;
  const count = Math.max(1, Math.round(opts.rows / (rpm * 2)));
  const perTx = opts.perTx ?? 5;
  const conc = opts.concurrency ?? 2;
  const out: CeilingResult[] = [];
  const add = (
    path: WritePath,
    scenario: CeilingResult['scenario'],
    rows: number,
    r: { inserted: number; ms: number },
  ): void => {
    out.push({
      path,
      scenario,
      rows,
      inserted: r.inserted,
      ms: Math.round(r.ms),
      rowsPerSec: Math.round(rows / (r.ms / 1000)),
    });
  };
  for (const path of opts.paths) {
    const run = `${path}${Date.now().toString(36)}`;
    const readings = makeMessageReadings(count, rpm, run);
    const sourceKey = `BC:6A:29:${run}`;
    const msgs = readings.map((r, m) => storeMessage(r, `${run}-${m}`, sourceKey));
    const rows = count * rpm * 2;
    add(path, 'fresh', rows, await storeAll(pool, path, msgs, perTx, conc));
    if (!opts.duplicates || path === 'copy') continue;
    // Redelivery / same batch resent: identical messages again.
    add(path, 'replay-same', rows, await storeAll(pool, path, msgs, perTx, conc));
    // Overlapping resend: same readings under new message ids, plus as many new ones.
    const fresh = makeMessageReadings(count, rpm, `${run}x`);
    const overlap = readings.map((r, m) =>
      storeMessage(
        [...r.slice(0, rpm / 2), ...fresh[m]!.slice(0, rpm / 2)],
        `${run}-${m}-again`,
        sourceKey,
      ),
    );
    add(path, 'overlap', rows, await storeAll(pool, path, overlap, perTx, conc));
  }
  return out;
}
