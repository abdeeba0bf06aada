/**
 * Readings messages -> rows of the readings table (one row per value), kept
 * column-wise so both write paths (COPY text, unnest arrays) take them as is.
 */
import type { Reading } from '../core/readings.js';

export interface ReadingRows {
  sourceKey: string[];
  device: string[];
  param: number[];
  ts: string[];
  value: number[];
  sqn: Array<number | null>;
  receivedAt: string[];
}

export function emptyRows(): ReadingRows {
  return { sourceKey: [], device: [], param: [], ts: [], value: [], sqn: [], receivedAt: [] };
}

export function rowCount(rows: ReadingRows): number {
  return rows.param.length;
}

/** Append the values of one message's readings. */
export function appendReadings(
  rows: ReadingRows,
  sourceKey: string,
  readings: readonly Reading[],
  receivedAtMs: number,
): void {
  const receivedAt = new Date(receivedAtMs).toISOString();
  for (const r of readings) {
    for (const v of r.values) {
      rows.sourceKey.push(sourceKey);
      rows.device.push(r.did);
      rows.param.push(v.p);
      rows.ts.push(r.ts);
      rows.value.push(v.v);
      rows.sqn.push(r.sqn ?? null);
      rows.receivedAt.push(receivedAt);
    }
  }
}

// COPY text format: backslash, tab, newline and carriage return must be escaped.
const NEEDS_ESCAPE = /[\\\t\n\r]/;
function copyText(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  );
}

/** The rows as COPY text, column order of COPY_COLUMNS, in chunks of about 1 MB. */
export function* copyChunks(rows: ReadingRows, rowsPerChunk = 8_000): Generator<Buffer> {
  const n = rowCount(rows);
  for (let start = 0; start < n; start += rowsPerChunk) {
    const end = Math.min(n, start + rowsPerChunk);
    let out = '';
    for (let i = start; i < end; i++) {
      const sqn = rows.sqn[i];
      out += `${copyText(rows.sourceKey[i]!)}\t${copyText(rows.device[i]!)}\t${rows.param[i]}\t${copyText(rows.ts[i]!)}\t${rows.value[i]}\t${sqn === null || sqn === undefined ? '\\N' : sqn}\t${rows.receivedAt[i]}\n`;
    }
    yield Buffer.from(out);
  }
}

export const COPY_COLUMNS = '(source_key, device, param, ts, value, sqn, received_at)';
