/**
 * A readings body (the bytes of a request or a message) checked once: the fast
 * scan when it is plainly valid, else the reference path (JSON.parse +
 * validateReadings) for the exact error, or for the rare valid body the scan
 * leaves to it (escaped keys, repeated keys, deep extra fields). Either way an
 * accepted body comes with a layout over bytes the scan understood, so chunking
 * and the consumer's COPY rows have one code path.
 */
import { validateReadings, type Reading } from './readings.js';
import {
  R_END,
  R_FIELDS,
  R_START,
  R_VCOUNT,
  MAX_SCAN_BYTES,
  scanReadings,
  type ReadingsLayout,
  type ScanOptions,
} from './readings-scan.js';

export interface CheckedReadings {
  ok: true;
  readings: number;
  values: number;
  /**
   * The bytes `layout` points into: the body itself, or (when only the
   * reference path could accept it) its readings re-serialised canonically.
   */
  bytes: Buffer;
  layout: ReadingsLayout;
}

/** The largest body that can be checked (128 MiB); the frontend's --body-limit stays below it. */
export const MAX_BODY_BYTES = MAX_SCAN_BYTES;

export type BodyCheck =
  | CheckedReadings
  | { ok: false; kind: 'malformed'; reason: string }
  | { ok: false; kind: 'too-large'; reason: string }
  | { ok: false; kind: 'invalid'; index: number; reason: string; readings: number };

/** Only the stored fields, in a form the scan always accepts. */
function canonical(readings: readonly Reading[]): Buffer {
  return Buffer.from(
    JSON.stringify(
      readings.map((r) => ({
        did: r.did,
        values: r.values.map((x) => ({ p: x.p, v: x.v })),
        ...(r.sqn === undefined || r.sqn === null ? {} : { sqn: r.sqn }),
        ts: r.ts,
      })),
    ),
  );
}

export function checkReadingsBody(raw: Buffer, opts: ScanOptions = {}): BodyCheck {
  if (raw.length > MAX_BODY_BYTES)
    return { ok: false, kind: 'too-large', reason: `body over ${MAX_BODY_BYTES} bytes` };
  const fast = scanReadings(raw, opts);
  if (fast)
    return { ok: true, readings: fast.readings, values: fast.values, bytes: raw, layout: fast };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    return { ok: false, kind: 'malformed', reason: (err as Error).message };
  }
  const checked = validateReadings(parsed);
  if (!checked.ok) {
    const readings = Array.isArray(parsed) ? parsed.length : 1;
    return { ok: false, kind: 'invalid', index: checked.index, reason: checked.reason, readings };
  }
  const bytes = canonical(checked.readings);
  const layout = scanReadings(bytes, opts);
  // Unreachable unless the two paths disagree on a valid reading: fail loudly, never store it half.
  if (!layout) throw new Error('readings accepted by validation but not by the scan (bug)');
  return { ok: true, readings: layout.readings, values: layout.values, bytes, layout };
}

export interface BodyChunk {
  body: Buffer;
  readings: number;
  values: number;
}

const OPEN = Buffer.from('[');
const CLOSE = Buffer.from(']');

/**
 * Split into messages of at most `maxReadings` readings, each a JSON array cut
 * from the checked bytes (no re-serialisation). One chunk: the bytes as they are.
 */
export function chunkReadings(checked: CheckedReadings, maxReadings: number): BodyChunk[] {
  const { layout, bytes } = checked;
  const n = layout.readings;
  if (maxReadings <= 0 || n <= maxReadings) {
    return [{ body: bytes, readings: n, values: layout.values }];
  }
  const r = layout.r;
  const out: BodyChunk[] = [];
  for (let a = 0; a < n; a += maxReadings) {
    const b = Math.min(n, a + maxReadings);
    let values = 0;
    for (let k = a; k < b; k++) values += r[k * R_FIELDS + R_VCOUNT]!;
    const slice = bytes.subarray(r[a * R_FIELDS + R_START]!, r[(b - 1) * R_FIELDS + R_END]!);
    out.push({ body: Buffer.concat([OPEN, slice, CLOSE]), readings: b - a, values });
  }
  return out;
}
