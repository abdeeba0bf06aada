/**
 * Writing readings exactly once. Three write paths (chosen with numbers from
 * bench/write-path.js, see the README):
 *  - `copy-ledger` (default): a ledger of message ids and a plain COPY in one
 *    transaction. A message already in the ledger (a gateway resending the same
 *    bytes, or a redelivery after a consumer crash) is skipped whole. A COPY that
 *    hits an existing row (a gateway resending an overlapping batch) rolls back
 *    to a savepoint and the rows go through `staging` instead.
 *  - `staging`: COPY into a temporary table, then INSERT ... ON CONFLICT DO NOTHING.
 *  - `unnest`: one INSERT ... SELECT FROM unnest(arrays) ON CONFLICT DO NOTHING.
 * The last two protect per row only (any duplicate, always), at a higher cost.
 */
import { isUniqueViolation } from '../adapters/postgres/pg-errors.js';
import type pg from 'pg';
import pgCopy from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { CheckedReadings } from '../core/readings-body.js';
import { COPY_COLUMNS, copyRows, valueRows } from './readings-rows.js';

export const WRITE_PATHS = ['copy-ledger', 'staging', 'unnest', 'copy'] as const;
export type WritePath = (typeof WRITE_PATHS)[number];

export interface StoreMessage {
  /** Deterministic id (hash of gateway and body); the ledger key. */
  messageId: string | undefined;
  sourceKey: string;
  account: string;
  /** The message body, checked (core/readings-body). */
  body: CheckedReadings;
  receivedAt: number;
  valueCount: number;
}

export interface NewRow {
  sourceKey: string;
  device: string;
  param: number;
  ts: string;
  value: number;
  account: string;
}

export interface StoreResult {
  /** Rows that did not exist before. */
  inserted: number;
  /** Values offered (inserted + duplicates). */
  offered: number;
  /** Messages skipped whole because the ledger already had them. */
  skippedMessages: number;
  /** The inserted rows themselves, when asked for (alert evaluation). */
  newRows: NewRow[] | undefined;
  /** COPY met an existing row and the batch took the per-row path. */
  fellBack: boolean;
}

/** The messages' rows as COPY text, one buffer per message. */
function copyData(messages: readonly StoreMessage[]): Buffer[] {
  return messages.map((m) => copyRows(m.body, m.sourceKey, m.receivedAt));
}

async function copyInto(client: pg.PoolClient, table: string, data: Buffer[]): Promise<void> {
  const stream = client.query(pgCopy.from(`COPY ${table} ${COPY_COLUMNS} FROM STDIN`));
  await pipeline(Readable.from(data), stream);
}

const RETURNING = `RETURNING source_key, device, param,
  to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ts, value`;

interface ReturnedRow {
  source_key: string;
  device: string;
  param: number;
  ts: string;
  value: number;
}

async function ensureStaging(client: pg.PoolClient): Promise<void> {
  // Per connection; ON COMMIT DELETE ROWS empties it after every transaction.
  await client.query(
    `CREATE TEMP TABLE IF NOT EXISTS readings_stage
       (LIKE readings INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`,
  );
}

async function viaStaging(
  client: pg.PoolClient,
  data: Buffer[],
  wantRows: boolean,
): Promise<ReturnedRow[] | number> {
  await ensureStaging(client);
  await client.query('TRUNCATE readings_stage');
  await copyInto(client, 'readings_stage', data);
  const res = await client.query<ReturnedRow>(
    `INSERT INTO readings ${COPY_COLUMNS}
       SELECT source_key, device, param, ts, value, sqn, received_at FROM readings_stage
       ON CONFLICT DO NOTHING ${wantRows ? RETURNING : ''}`,
  );
  return wantRows ? res.rows : (res.rowCount ?? 0);
}

async function viaUnnest(
  client: pg.PoolClient,
  messages: readonly StoreMessage[],
  wantRows: boolean,
): Promise<ReturnedRow[] | number> {
  const cols = {
    sourceKey: [] as string[],
    device: [] as string[],
    param: [] as number[],
    ts: [] as string[],
    value: [] as number[],
    sqn: [] as Array<number | null>,
    receivedAt: [] as string[],
  };
  for (const m of messages) {
    const receivedAt = new Date(m.receivedAt).toISOString();
    for (const row of valueRows(m.body)) {
      cols.sourceKey.push(m.sourceKey);
      cols.device.push(row.device);
      cols.param.push(row.param);
      cols.ts.push(row.ts);
      cols.value.push(row.value);
      cols.sqn.push(row.sqn);
      cols.receivedAt.push(receivedAt);
    }
  }
  const res = await client.query<ReturnedRow>(
    `INSERT INTO readings ${COPY_COLUMNS}
       SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[],
                            $5::float8[], $6::int[], $7::timestamptz[])
       ON CONFLICT DO NOTHING ${wantRows ? RETURNING : ''}`,
    [cols.sourceKey, cols.device, cols.param, cols.ts, cols.value, cols.sqn, cols.receivedAt],
  );
  return wantRows ? res.rows : (res.rowCount ?? 0);
}

/** Messages not yet in the ledger (and records them, in the caller's transaction). */
async function claimMessages(
  client: pg.PoolClient,
  messages: readonly StoreMessage[],
): Promise<StoreMessage[]> {
  const withId = messages.filter((m) => m.messageId !== undefined);
  if (withId.length === 0) return [...messages];
  const res = await client.query<{ message_id: string }>(
    `INSERT INTO consumed_messages (message_id, source_key, values_count)
       SELECT * FROM unnest($1::text[], $2::text[], $3::int[])
       ON CONFLICT DO NOTHING RETURNING message_id`,
    [
      withId.map((m) => m.messageId),
      withId.map((m) => m.sourceKey),
      withId.map((m) => m.valueCount),
    ],
  );
  const fresh = new Set(res.rows.map((r) => r.message_id));
  // The same message twice in one batch: only its first copy is fresh.
  const out: StoreMessage[] = [];
  for (const m of messages) {
    if (m.messageId === undefined) out.push(m);
    else if (fresh.delete(m.messageId)) out.push(m);
  }
  return out;
}

function toNewRows(returned: ReturnedRow[], accountOf: Map<string, string>): NewRow[] {
  return returned.map((r) => ({
    sourceKey: r.source_key,
    device: r.device,
    param: r.param,
    ts: r.ts,
    value: r.value,
    account: accountOf.get(r.source_key) ?? '',
  }));
}

function rowsAsNew(messages: readonly StoreMessage[]): NewRow[] {
  const out: NewRow[] = [];
  for (const m of messages)
    for (const row of valueRows(m.body))
      out.push({
        sourceKey: m.sourceKey,
        device: row.device,
        param: row.param,
        ts: new Date(row.ts).toISOString(),
        value: row.value,
        account: m.account,
      });
  return out;
}

export interface ReadingsStore {
  readonly path: WritePath;
  /** Store the messages inside the caller's open transaction. */
  store(
    client: pg.PoolClient,
    messages: readonly StoreMessage[],
    opts?: { wantNewRows?: boolean },
  ): Promise<StoreResult>;
}

export function createReadingsStore(path: WritePath = 'copy-ledger'): ReadingsStore {
  return {
    path,
    async store(client, messages, opts = {}) {
      const wantRows = opts.wantNewRows === true;
      const offered = messages.reduce((n, m) => n + m.valueCount, 0);
      const fresh = path === 'copy-ledger' ? await claimMessages(client, messages) : [...messages];
      const skippedMessages = messages.length - fresh.length;
      const accountOf = new Map(messages.map((m) => [m.sourceKey, m.account]));
      const n = fresh.reduce((k, m) => k + m.valueCount, 0);
      const result = (inserted: number, newRows: NewRow[] | undefined, fellBack = false) => ({
        inserted,
        offered,
        skippedMessages,
        newRows,
        fellBack,
      });
      if (n === 0) return result(0, wantRows ? [] : undefined);

      if (path === 'unnest') {
        const out = await viaUnnest(client, fresh, wantRows);
        return typeof out === 'number'
          ? result(out, undefined)
          : result(out.length, toNewRows(out, accountOf));
      }
      const data = copyData(fresh);
      if (path === 'staging') {
        const out = await viaStaging(client, data, wantRows);
        return typeof out === 'number'
          ? result(out, undefined)
          : result(out.length, toNewRows(out, accountOf));
      }
      if (path === 'copy') {
        await copyInto(client, 'readings', data);
        return result(n, wantRows ? rowsAsNew(fresh) : undefined);
      }
      await client.query('SAVEPOINT copy_readings');
      try {
        await copyInto(client, 'readings', data);
        await client.query('RELEASE SAVEPOINT copy_readings');
        return result(n, wantRows ? rowsAsNew(fresh) : undefined);
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        await client.query('ROLLBACK TO SAVEPOINT copy_readings');
      }
      const out = await viaStaging(client, data, wantRows);
      return typeof out === 'number'
        ? result(out, undefined, true)
        : result(out.length, toNewRows(out, accountOf), true);
    },
  };
}
