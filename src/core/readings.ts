/**
 * The reading, as gateways send it (DESIGN §3), and its validation. Hand-written
 * rather than schema-driven: it runs on every reading of every request, and it
 * must say which reading is bad and why.
 */

export interface ReadingValue {
  /** Parameter id. */
  p: number;
  /** Measured value. */
  v: number;
}

export interface Reading {
  /** Device id, a string (numbers are accepted and kept as strings). */
  did: string;
  values: ReadingValue[];
  sqn?: number;
  ts: string;
}

export type ValidationResult =
  | { ok: true; readings: Reading[]; valueCount: number }
  | { ok: false; index: number; reason: string };

// ISO-8601 date-time with an explicit offset (Z or ±hh:mm / ±hhmm).
const TS_RE =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|z|[+-](\d{2})(?::?(\d{2}))?)$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;
const TS_FORMAT = 'ts must be an ISO-8601 timestamp with an offset, e.g. 2015-04-21T23:15:00+00:00';

/**
 * Why a timestamp cannot be stored, or undefined. Beyond the format, the date
 * must exist and the offset be within ±15:59: JavaScript's Date.parse accepts
 * 2015-02-30 and +16:00, PostgreSQL refuses both, and a reading accepted here
 * must be one the consumer can store.
 */
export function timestampProblem(ts: string): string | undefined {
  const m = TS_RE.exec(ts);
  if (m === null || Number.isNaN(Date.parse(ts))) return TS_FORMAT;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
  if (year < 1 || day < 1 || day > days || Number(m[7] ?? 0) > 15 || Number(m[8] ?? 0) > 59) {
    return `ts ${ts} is not a real date and time (day of month, year 0001+, offset within ±15:59)`;
  }
  return undefined;
}

export const isValidTimestamp = (ts: string): boolean => timestampProblem(ts) === undefined;

// param and sqn are PostgreSQL integers; a reading outside them could never be stored.
const INT32_MIN = -2_147_483_648;
const INT32_MAX = 2_147_483_647;
const isInt32 = (n: number): boolean => Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX;

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Why one reading is invalid, or undefined when it is valid. Normalises `did` in place. */
export function readingProblem(r: unknown): string | undefined {
  if (!isPlainObject(r)) return 'a reading must be an object';
  const did = r.did;
  if (typeof did === 'number') {
    if (!Number.isFinite(did)) return 'did must be a non-empty string or a number';
    r.did = String(did);
  } else if (typeof did !== 'string' || did.length === 0) {
    return 'did must be a non-empty string or a number';
  } else if (did.includes('\u0000')) {
    return 'did must not contain NUL';
  }
  const values = r.values;
  if (!Array.isArray(values) || values.length === 0) return 'values must be a non-empty array';
  for (let i = 0; i < values.length; i++) {
    const v: unknown = values[i];
    if (!isPlainObject(v)) return `values[${i}] must be an object {p, v}`;
    if (typeof v.p !== 'number' || !Number.isInteger(v.p))
      return `values[${i}].p must be an integer`;
    if (!isInt32(v.p)) return `values[${i}].p ${v.p} is out of range (32-bit integer)`;
    if (typeof v.v !== 'number' || !Number.isFinite(v.v))
      return `values[${i}].v must be a finite number`;
  }
  if (r.sqn !== undefined && r.sqn !== null) {
    if (typeof r.sqn !== 'number' || !Number.isInteger(r.sqn)) return 'sqn must be an integer';
    if (!isInt32(r.sqn)) return `sqn ${r.sqn} is out of range (32-bit integer)`;
  }
  const ts = r.ts;
  if (typeof ts !== 'string') return TS_FORMAT;
  return timestampProblem(ts);
}

/**
 * Validate a parsed body: an array of readings or a single reading object.
 * All-or-nothing: the first bad reading fails the whole batch.
 */
export function validateReadings(body: unknown): ValidationResult {
  const list: unknown[] = Array.isArray(body) ? body : [body];
  // No reading to point at: index -1 (said without "reading N").
  if (list.length === 0)
    return { ok: false, index: -1, reason: 'the body holds no readings (an empty array)' };
  let valueCount = 0;
  for (let i = 0; i < list.length; i++) {
    const problem = readingProblem(list[i]);
    if (problem !== undefined) return { ok: false, index: i, reason: problem };
    valueCount += (list[i] as Reading).values.length;
  }
  return { ok: true, readings: list as Reading[], valueCount };
}
