/**
 * The fast path of readings validation: one pass over the body's bytes that
 * checks the JSON syntax and the reading schema together, without building
 * objects (JSON.parse + validateReadings of a body of 3000 readings cost ~9 ms
 * of the frontend's ~12 ms per request; this pass takes 4-7x less time).
 *
 * It is deliberately conservative: it answers `undefined` whenever the body is
 * not plainly valid (any syntax or schema problem, an escaped key, deep
 * nesting), and the caller then runs the reference path, JSON.parse +
 * validateReadings, which gives the exact error. So a body this pass accepts
 * is always one the reference path accepts, with the same counts; the
 * differential test in test/unit/core/readings-scan.test.ts holds it to that.
 *
 * Besides the verdict it records where each reading and each of its fields
 * sits in the bytes (a ReadingsLayout), so chunks can be cut from the raw
 * bytes and the consumer can write COPY rows without parsing again.
 */
import { isValidTimestamp } from './readings.js';

// Field slots per reading and per value in the layout arrays.
export const R_START = 0;
export const R_END = 1;
export const R_DID_S = 2;
export const R_DID_E = 3;
export const R_DID_K = 4;
export const R_TS_S = 5;
export const R_TS_E = 6;
export const R_TS_K = 7;
export const R_SQN_S = 8;
export const R_SQN_E = 9;
export const R_SQN_K = 10;
export const R_VALUES = 11;
export const R_VCOUNT = 12;
export const R_FIELDS = 13;

export const V_P_S = 0;
export const V_P_E = 1;
export const V_P_K = 2;
export const V_V_S = 3;
export const V_V_E = 4;
export const V_V_K = 5;
export const V_FIELDS = 6;

/**
 * How a recorded field's bytes may be used. PLAIN: the bytes are the value as
 * text, safe for COPY (a string without escapes or non-ASCII bytes; a number
 * in plain form). DECODE: a string to be decoded through JSON (escapes,
 * non-ASCII). NUMBER: a number whose JavaScript value must be printed instead
 * of its bytes (exponent, fraction on an integer field, -0, long literals).
 * ABSENT: not present or null (sqn only).
 */
export const K_ABSENT = 0;
export const K_PLAIN = 1;
export const K_DECODE = 2;
export const K_NUMBER = 3;

export interface ReadingsLayout {
  readings: number;
  values: number;
  /** R_FIELDS slots per reading. */
  r: Int32Array;
  /** V_FIELDS slots per value, in reading order. */
  v: Int32Array;
}

const INT32_MAX = 2_147_483_647;
const MAX_DEPTH = 64;
/** Every helper answers a position, or FAIL: the body is not plainly valid. */
const FAIL = -1;

// Bytes.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= ZERO && c <= NINE;
// Most bytes are above 0x20, so one comparison settles them.
const isWs = (c: number | undefined): boolean =>
  c !== undefined && c <= 0x20 && (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09);
const isHex = (c: number | undefined): boolean =>
  c !== undefined &&
  ((c >= ZERO && c <= NINE) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));

// The schema's keys.
const KEY_OTHER = 0;
const KEY_DID = 1;
const KEY_VALUES = 2;
const KEY_SQN = 3;
const KEY_TS = 4;
const KEY_P = 5;
const KEY_V = 6;

// The helpers are plain functions of (bytes, position) answering a position (with
// flags packed into its low bits), so V8 inlines them and the position stays in a
// register: written as closures sharing the position, the same pass was 2x slower.

/** Positions times 8 must stay within 32-bit integers: the largest body the scan takes. */
export const MAX_SCAN_BYTES = 2 ** 27;

function skipWs(buf: Buffer, i: number): number {
  while (isWs(buf[i])) i++;
  return i;
}

/**
 * After an opening quote: the position of the closing quote, times 2, plus 1
 * when the string needs decoding (escapes, non-ASCII); FAIL when invalid.
 */
function stringEnd(buf: Buffer, i: number, n: number): number {
  let decode = 0;
  for (;;) {
    if (i >= n) return FAIL;
    const c = buf[i]!;
    if (c === QUOTE) return i * 2 + decode;
    if (c === BACKSLASH) {
      decode = 1;
      const e = buf[i + 1];
      if (e === 0x75) {
        if (!isHex(buf[i + 2]) || !isHex(buf[i + 3]) || !isHex(buf[i + 4]) || !isHex(buf[i + 5]))
          return FAIL;
        i += 6;
      } else if (
        e === QUOTE ||
        e === BACKSLASH ||
        e === 0x2f ||
        e === 0x62 ||
        e === 0x66 ||
        e === 0x6e ||
        e === 0x72 ||
        e === 0x74
      ) {
        i += 2;
      } else return FAIL;
      continue;
    }
    if (c < 0x20) return FAIL;
    if (c >= 0x80) decode = 1;
    i++;
  }
}

const NUM_FRACTION = 1; // has a fraction or an exponent: not a plain integer
const NUM_EXPONENT = 2;

/** At '-' or a digit: the end of the JSON number, times 4, plus NUM_ flags; FAIL when invalid. */
function numberEnd(buf: Buffer, i: number): number {
  if (buf[i] === MINUS) i++;
  const first = buf[i];
  if (first === ZERO) i++;
  else if (first !== undefined && first > ZERO && first <= NINE) {
    i++;
    while (isDigit(buf[i])) i++;
  } else return FAIL;
  let flags = 0;
  if (buf[i] === DOT) {
    i++;
    if (!isDigit(buf[i])) return FAIL;
    while (isDigit(buf[i])) i++;
    flags = NUM_FRACTION;
  }
  const e = buf[i];
  if (e === 0x65 || e === 0x45) {
    i++;
    if (buf[i] === PLUS || buf[i] === MINUS) i++;
    if (!isDigit(buf[i])) return FAIL;
    while (isDigit(buf[i])) i++;
    flags = NUM_FRACTION | NUM_EXPONENT;
  }
  return i * 4 + flags;
}

/** The number in [s, e) as an int32 field (param, sqn): its K_ kind, or FAIL. */
function int32Kind(buf: Buffer, s: number, e: number, flags: number): number {
  const neg = buf[s] === MINUS;
  if (flags === 0 && e - s <= 11) {
    let x = 0;
    for (let k = neg ? s + 1 : s; k < e; k++) x = x * 10 + (buf[k]! - ZERO);
    if (neg ? x > INT32_MAX + 1 : x > INT32_MAX) return FAIL;
    // "-0" is printed as 0.
    return neg && x === 0 ? K_NUMBER : K_PLAIN;
  }
  const x = Number(buf.toString('latin1', s, e));
  return Number.isInteger(x) && x >= -INT32_MAX - 1 && x <= INT32_MAX ? K_NUMBER : FAIL;
}

/** The number in [s, e) as a finite double (v, a numeric did): its K_ kind, or FAIL. */
function finiteKind(buf: Buffer, s: number, e: number, flags: number): number {
  // Short plain literals are finite and read identically by PostgreSQL; the rest
  // (exponents, long literals that may under/overflow, -0) go through Number().
  if ((flags & NUM_EXPONENT) === 0 && e - s <= 20 && !(buf[s] === MINUS && buf[s + 1] === ZERO))
    return K_PLAIN;
  return Number.isFinite(Number(buf.toString('latin1', s, e))) ? K_NUMBER : FAIL;
}

function literalEnd(buf: Buffer, i: number, word: string): number {
  for (let k = 0; k < word.length; k++) if (buf[i + k] !== word.charCodeAt(k)) return FAIL;
  return i + word.length;
}

/** Skip any JSON value, checking its syntax: the position after it, or FAIL. */
function skipValue(buf: Buffer, i: number, n: number, depth: number): number {
  if (depth > MAX_DEPTH) return FAIL;
  const c = buf[i];
  if (c === QUOTE) {
    const t = stringEnd(buf, i + 1, n);
    return t === FAIL ? FAIL : (t >> 1) + 1;
  }
  if (c === MINUS || isDigit(c)) {
    const t = numberEnd(buf, i);
    return t === FAIL ? FAIL : t >> 2;
  }
  if (c === LBRACE || c === LBRACKET) {
    const close = c === LBRACE ? RBRACE : RBRACKET;
    i = skipWs(buf, i + 1);
    if (buf[i] === close) return i + 1;
    for (;;) {
      if (c === LBRACE) {
        if (buf[i] !== QUOTE) return FAIL;
        const t = stringEnd(buf, i + 1, n);
        if (t === FAIL) return FAIL;
        i = skipWs(buf, (t >> 1) + 1);
        if (buf[i] !== COLON) return FAIL;
        i = skipWs(buf, i + 1);
      }
      i = skipValue(buf, i, n, depth + 1);
      if (i === FAIL) return FAIL;
      i = skipWs(buf, i);
      const d = buf[i++];
      if (d === close) return i;
      if (d !== COMMA) return FAIL;
      i = skipWs(buf, i);
    }
  }
  if (c === 0x74) return literalEnd(buf, i, 'true');
  if (c === 0x66) return literalEnd(buf, i, 'false');
  if (c === 0x6e) return literalEnd(buf, i, 'null');
  return FAIL;
}

/**
 * At a quote: the key (a KEY_ constant) plus 8 times the position of its value
 * (after the colon and whitespace); FAIL when invalid, or when the key is
 * escaped (it could spell any name: only the reference path can tell).
 */
function keyAt(buf: Buffer, i: number, n: number): number {
  if (buf[i] !== QUOTE) return FAIL;
  const a = buf[i + 1];
  let key = KEY_OTHER;
  let len = 0;
  // The schema's keys, spelled plainly: no string scan.
  if (a === 0x70) {
    key = KEY_P;
    len = 1;
  } else if (a === 0x76) {
    if (buf[i + 2] === QUOTE) {
      key = KEY_V;
      len = 1;
    } else if (
      buf[i + 2] === 0x61 &&
      buf[i + 3] === 0x6c &&
      buf[i + 4] === 0x75 &&
      buf[i + 5] === 0x65 &&
      buf[i + 6] === 0x73
    ) {
      key = KEY_VALUES;
      len = 6;
    }
  } else if (a === 0x64 && buf[i + 2] === 0x69 && buf[i + 3] === 0x64) {
    key = KEY_DID;
    len = 3;
  } else if (a === 0x74 && buf[i + 2] === 0x73) {
    key = KEY_TS;
    len = 2;
  } else if (a === 0x73 && buf[i + 2] === 0x71 && buf[i + 3] === 0x6e) {
    key = KEY_SQN;
    len = 3;
  }
  let j: number;
  if (key !== KEY_OTHER && buf[i + len + 1] === QUOTE) j = i + len + 2;
  else {
    key = KEY_OTHER;
    const t = stringEnd(buf, i + 1, n);
    if (t === FAIL) return FAIL;
    const e = t >> 1;
    if (t & 1) for (let k = i + 1; k < e; k++) if (buf[k] === BACKSLASH) return FAIL;
    j = e + 1;
  }
  if (buf[j] !== COLON) {
    j = skipWs(buf, j);
    if (buf[j] !== COLON) return FAIL;
  }
  j++;
  if (isWs(buf[j])) j = skipWs(buf, j);
  return j * 8 + key;
}

/**
 * After a member or element: twice the position after the following ',' and
 * whitespace, or twice the position after `close` plus 1; FAIL otherwise.
 */
function afterMember(buf: Buffer, i: number, close: number): number {
  if (isWs(buf[i])) i = skipWs(buf, i);
  const d = buf[i];
  if (d === COMMA) return skipWs(buf, i + 1) * 2;
  return d === close ? (i + 1) * 2 + 1 : FAIL;
}

function decodeString(buf: Buffer, s: number, e: number): string {
  return JSON.parse(buf.toString('utf8', s - 1, e + 1)) as string;
}

function grow(a: Int32Array, need: number): Int32Array {
  if (need <= a.length) return a;
  const grown = new Int32Array(Math.max(need, a.length * 2));
  grown.set(a);
  return grown;
}

/** Where a scan is: the layout so far, and the last timestamp that passed. */
interface ScanState {
  r: Int32Array;
  v: Int32Array;
  readings: number;
  values: number;
  // By its bytes: real batches repeat one timestamp across devices.
  lastTsS: number;
  lastTsLen: number;
}

/**
 * At '{' of a reading: record it in the state and answer the position after
 * its '}', or FAIL. A function of its own (not a loop body inside
 * scanReadings): V8 then optimises it as a whole, where on-stack replacement
 * of one long loop kept deoptimising at its exit, once per body.
 */
function scanReading(st: ScanState, buf: Buffer, i: number, n: number): number {
  const r = (st.r = grow(st.r, (st.readings + 1) * R_FIELDS));
  let v = st.v;
  let values = st.values;
  let lastTsS = st.lastTsS;
  let lastTsLen = st.lastTsLen;
  const slot = st.readings * R_FIELDS;
  const base = values;
  let haveDid = false;
  let haveTs = false;
  let valueCount = 0;
  r[slot + R_START] = i;
  r[slot + R_SQN_K] = K_ABSENT;
  i = skipWs(buf, i + 1);
  for (;;) {
    const k = keyAt(buf, i, n);
    if (k === FAIL) return FAIL;
    const key = k & 7;
    i = k >> 3;
    const c = buf[i];
    if (key === KEY_DID) {
      let s: number;
      let e: number;
      let kind: number;
      if (c === QUOTE) {
        const t = stringEnd(buf, i + 1, n);
        if (t === FAIL) return FAIL;
        s = i + 1;
        e = t >> 1;
        kind = t & 1 ? K_DECODE : K_PLAIN;
        if (e === s) return FAIL;
        if (kind === K_DECODE && decodeString(buf, s, e).includes('\u0000')) return FAIL;
        i = e + 1;
      } else if (c === MINUS || isDigit(c)) {
        const t = numberEnd(buf, i);
        if (t === FAIL) return FAIL;
        s = i;
        e = t >> 2;
        if (finiteKind(buf, s, e, t & 3) === FAIL) return FAIL;
        kind = K_NUMBER;
        i = e;
      } else return FAIL;
      r[slot + R_DID_S] = s;
      r[slot + R_DID_E] = e;
      r[slot + R_DID_K] = kind;
      haveDid = true;
    } else if (key === KEY_VALUES) {
      if (c !== LBRACKET) return FAIL;
      // A later "values" key replaces an earlier one, as in JSON.parse.
      values = base;
      i = skipWs(buf, i + 1);
      for (;;) {
        // One value object {p, v}.
        if (buf[i] !== LBRACE) return FAIL;
        v = grow(v, (values + 1) * V_FIELDS);
        const vs = values++ * V_FIELDS;
        let haveP = false;
        let haveV = false;
        i = skipWs(buf, i + 1);
        for (;;) {
          const vk = keyAt(buf, i, n);
          if (vk === FAIL) return FAIL;
          const vkey = vk & 7;
          i = vk >> 3;
          if (vkey === KEY_P || vkey === KEY_V) {
            const t = numberEnd(buf, i);
            if (t === FAIL) return FAIL;
            const e = t >> 2;
            if (vkey === KEY_P) {
              const kind = int32Kind(buf, i, e, t & 3);
              if (kind === FAIL) return FAIL;
              v[vs + V_P_S] = i;
              v[vs + V_P_E] = e;
              v[vs + V_P_K] = kind;
              haveP = true;
            } else {
              const kind = finiteKind(buf, i, e, t & 3);
              if (kind === FAIL) return FAIL;
              v[vs + V_V_S] = i;
              v[vs + V_V_E] = e;
              v[vs + V_V_K] = kind;
              haveV = true;
            }
            i = e;
          } else {
            i = skipValue(buf, i, n, 2);
            if (i === FAIL) return FAIL;
          }
          const m = afterMember(buf, i, RBRACE);
          if (m === FAIL) return FAIL;
          i = m >> 1;
          if (m & 1) break;
        }
        if (!haveP || !haveV) return FAIL;
        const m = afterMember(buf, i, RBRACKET);
        if (m === FAIL) return FAIL;
        i = m >> 1;
        if (m & 1) break;
      }
      valueCount = values - base;
    } else if (key === KEY_SQN) {
      if (c === 0x6e) {
        i = literalEnd(buf, i, 'null');
        if (i === FAIL) return FAIL;
        r[slot + R_SQN_K] = K_ABSENT;
      } else {
        if (c !== MINUS && !isDigit(c)) return FAIL;
        const t = numberEnd(buf, i);
        if (t === FAIL) return FAIL;
        const e = t >> 2;
        const kind = int32Kind(buf, i, e, t & 3);
        if (kind === FAIL) return FAIL;
        r[slot + R_SQN_S] = i;
        r[slot + R_SQN_E] = e;
        r[slot + R_SQN_K] = kind;
        i = e;
      }
    } else if (key === KEY_TS) {
      if (c !== QUOTE) return FAIL;
      const s = i + 1;
      // The same bytes as the last timestamp that passed (checked as one pass, no string scan)?
      let q = 0;
      if (buf[s + lastTsLen] === QUOTE)
        while (q < lastTsLen && buf[s + q] === buf[lastTsS + q]) q++;
      let e: number;
      let kind = K_PLAIN;
      if (q === lastTsLen) e = s + q;
      else {
        const t = stringEnd(buf, s, n);
        if (t === FAIL) return FAIL;
        e = t >> 1;
        kind = t & 1 ? K_DECODE : K_PLAIN;
        const text = kind === K_PLAIN ? buf.toString('latin1', s, e) : decodeString(buf, s, e);
        if (!isValidTimestamp(text)) return FAIL;
        if (kind === K_PLAIN) {
          lastTsS = s;
          lastTsLen = e - s;
        }
      }
      r[slot + R_TS_S] = s;
      r[slot + R_TS_E] = e;
      r[slot + R_TS_K] = kind;
      haveTs = true;
      i = e + 1;
    } else {
      i = skipValue(buf, i, n, 1);
      if (i === FAIL) return FAIL;
    }
    const m = afterMember(buf, i, RBRACE);
    if (m === FAIL) return FAIL;
    i = m >> 1;
    if (m & 1) break;
  }
  if (!haveDid || !haveTs || valueCount === 0) return FAIL;
  values = base + valueCount;
  r[slot + R_END] = i;
  r[slot + R_VALUES] = base;
  r[slot + R_VCOUNT] = valueCount;
  st.v = v;
  st.values = values;
  st.lastTsS = lastTsS;
  st.lastTsLen = lastTsLen;
  st.readings++;
  return i;
}

// Layout arrays reused by transient scans (grown as needed, never shrunk).
const scratch: { r: Int32Array; v: Int32Array } = {
  r: new Int32Array(R_FIELDS * 1024),
  v: new Int32Array(V_FIELDS * 2048),
};

export interface ScanOptions {
  /**
   * The layout is only read before the next transient scan (synchronously):
   * it then lives in arrays reused across scans, which spares the frontend
   * ~350 KB of allocation and its garbage collection per 3000-reading request.
   */
  transient?: boolean;
}

/**
 * Scan a readings body (an array of reading objects, or one reading object).
 * Returns its layout when it is plainly valid, or undefined when the
 * reference path must decide.
 */
export function scanReadings(buf: Buffer, opts: ScanOptions = {}): ReadingsLayout | undefined {
  const n = buf.length;
  if (n > MAX_SCAN_BYTES) return undefined;
  const st: ScanState = {
    r: opts.transient ? scratch.r : new Int32Array(R_FIELDS * Math.max(16, Math.ceil(n / 100))),
    v: opts.transient ? scratch.v : new Int32Array(V_FIELDS * Math.max(32, Math.ceil(n / 50))),
    readings: 0,
    values: 0,
    lastTsS: 0,
    lastTsLen: -1,
  };
  const layout = scanBody(buf, n, st);
  if (opts.transient) {
    scratch.r = st.r;
    scratch.v = st.v;
  }
  return layout;
}

function scanBody(buf: Buffer, n: number, st: ScanState): ReadingsLayout | undefined {
  let i = skipWs(buf, 0);
  const single = buf[i] === LBRACE;
  if (!single) {
    if (buf[i] !== LBRACKET) return undefined;
    i = skipWs(buf, i + 1);
  }
  for (;;) {
    if (buf[i] !== LBRACE) return undefined;
    i = scanReading(st, buf, i, n);
    if (i === FAIL) return undefined;
    if (single) break;
    const m = afterMember(buf, i, RBRACKET);
    if (m === FAIL) return undefined;
    i = m >> 1;
    if (m & 1) break;
  }
  i = skipWs(buf, i);
  if (i !== n) return undefined;
  return { readings: st.readings, values: st.values, r: st.r, v: st.v };
}
