/**
 * A checked readings body -> rows of the readings table (one row per value).
 * COPY text is cut straight from the body's bytes through its layout: a plain
 * string or number is already valid COPY text, so a value row costs a few byte
 * copies, not a parse, an object and a string template. Fields the scan marked
 * for decoding (escapes, non-ASCII) or normalising (numbers such as 1e3, -0,
 * 402.0 on an integer column) go through JavaScript.
 */
import type { CheckedReadings } from '../core/readings-body.js';
import {
  K_ABSENT,
  K_DECODE,
  K_PLAIN,
  R_DID_E,
  R_DID_K,
  R_DID_S,
  R_FIELDS,
  R_SQN_E,
  R_SQN_K,
  R_SQN_S,
  R_TS_E,
  R_TS_K,
  R_TS_S,
  R_VALUES,
  R_VCOUNT,
  V_FIELDS,
  V_P_E,
  V_P_K,
  V_P_S,
  V_V_E,
  V_V_K,
  V_V_S,
} from '../core/readings-scan.js';

export const COPY_COLUMNS = '(source_key, device, param, ts, value, sqn, received_at)';

// COPY text format: backslash, tab, newline and carriage return must be escaped.
const NEEDS_ESCAPE = /[\\\t\n\r]/;
function copyText(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  );
}

/** A field's JavaScript value, decoded from its bytes. */
function fieldText(bytes: Buffer, s: number, e: number, kind: number): string {
  if (kind === K_PLAIN) return bytes.toString('latin1', s, e);
  if (kind === K_DECODE) return JSON.parse(bytes.toString('utf8', s - 1, e + 1)) as string;
  return String(Number(bytes.toString('latin1', s, e)));
}

const NULL_TEXT = Buffer.from('\\N');
const TAB = 0x09;

/** Copy src[s, e) to out at o; the fields are short, so a loop beats Buffer#copy. */
function put(out: Buffer, o: number, src: Buffer, s: number, e: number): number {
  for (let k = s; k < e; k++) out[o++] = src[k]!;
  return o;
}

/** A field as COPY bytes: a range of `src`. */
interface Span {
  src: Buffer;
  s: number;
  e: number;
}

function span(bytes: Buffer, s: number, e: number, kind: number, target: Span): void {
  if (kind === K_PLAIN) {
    target.src = bytes;
    target.s = s;
    target.e = e;
    return;
  }
  const text = kind === K_ABSENT ? undefined : fieldText(bytes, s, e, kind);
  const b = text === undefined ? NULL_TEXT : Buffer.from(copyText(text));
  target.src = b;
  target.s = 0;
  target.e = b.length;
}

/**
 * The rows of one message as COPY text in COPY_COLUMNS order: `source_key`
 * and `received_at` from the message, the rest from each reading and value.
 */
export function copyRows(body: CheckedReadings, sourceKey: string, receivedAtMs: number): Buffer {
  const { bytes, layout } = body;
  const prefix = Buffer.from(`${copyText(sourceKey)}\t`);
  const suffix = Buffer.from(`\t${new Date(receivedAtMs).toISOString()}\n`);
  const r = layout.r;
  const v = layout.v;
  let out = Buffer.allocUnsafe(
    Math.ceil(bytes.length * 1.2) + layout.values * (prefix.length + suffix.length + 8),
  );
  let o = 0;
  const did: Span = { src: bytes, s: 0, e: 0 };
  const ts: Span = { src: bytes, s: 0, e: 0 };
  const sqn: Span = { src: bytes, s: 0, e: 0 };
  const p: Span = { src: bytes, s: 0, e: 0 };
  const val: Span = { src: bytes, s: 0, e: 0 };
  for (let ri = 0; ri < layout.readings; ri++) {
    const rs = ri * R_FIELDS;
    span(bytes, r[rs + R_DID_S]!, r[rs + R_DID_E]!, r[rs + R_DID_K]!, did);
    span(bytes, r[rs + R_TS_S]!, r[rs + R_TS_E]!, r[rs + R_TS_K]!, ts);
    span(bytes, r[rs + R_SQN_S]!, r[rs + R_SQN_E]!, r[rs + R_SQN_K]!, sqn);
    const first = r[rs + R_VALUES]!;
    const count = r[rs + R_VCOUNT]!;
    for (let vi = first; vi < first + count; vi++) {
      const vs = vi * V_FIELDS;
      span(bytes, v[vs + V_P_S]!, v[vs + V_P_E]!, v[vs + V_P_K]!, p);
      span(bytes, v[vs + V_V_S]!, v[vs + V_V_E]!, v[vs + V_V_K]!, val);
      const len =
        prefix.length +
        suffix.length +
        4 +
        (did.e - did.s) +
        (p.e - p.s) +
        (ts.e - ts.s) +
        (val.e - val.s) +
        (sqn.e - sqn.s);
      if (o + len > out.length) {
        const grown = Buffer.allocUnsafe(Math.max(out.length * 2, o + len));
        out.copy(grown, 0, 0, o);
        out = grown;
      }
      o = put(out, o, prefix, 0, prefix.length);
      o = put(out, o, did.src, did.s, did.e);
      out[o++] = TAB;
      o = put(out, o, p.src, p.s, p.e);
      out[o++] = TAB;
      o = put(out, o, ts.src, ts.s, ts.e);
      out[o++] = TAB;
      o = put(out, o, val.src, val.s, val.e);
      out[o++] = TAB;
      o = put(out, o, sqn.src, sqn.s, sqn.e);
      o = put(out, o, suffix, 0, suffix.length);
    }
  }
  return out.subarray(0, o);
}

/** One value of a reading, decoded to JavaScript. */
export interface ValueRow {
  device: string;
  param: number;
  ts: string;
  value: number;
  sqn: number | null;
}

/** Every value row of a body (the unnest write path, alert evaluation). */
export function valueRows(body: CheckedReadings): ValueRow[] {
  const { bytes, layout } = body;
  const r = layout.r;
  const v = layout.v;
  const out: ValueRow[] = [];
  for (let ri = 0; ri < layout.readings; ri++) {
    const rs = ri * R_FIELDS;
    const device = fieldText(bytes, r[rs + R_DID_S]!, r[rs + R_DID_E]!, r[rs + R_DID_K]!);
    const ts = fieldText(bytes, r[rs + R_TS_S]!, r[rs + R_TS_E]!, r[rs + R_TS_K]!);
    const sqnKind = r[rs + R_SQN_K]!;
    const sqn =
      sqnKind === K_ABSENT
        ? null
        : Number(bytes.toString('latin1', r[rs + R_SQN_S]!, r[rs + R_SQN_E]!));
    const first = r[rs + R_VALUES]!;
    for (let vi = first; vi < first + r[rs + R_VCOUNT]!; vi++) {
      const vs = vi * V_FIELDS;
      out.push({
        device,
        param: Number(bytes.toString('latin1', v[vs + V_P_S]!, v[vs + V_P_E]!)),
        ts,
        value: Number(bytes.toString('latin1', v[vs + V_V_S]!, v[vs + V_V_E]!)),
        sqn,
      });
    }
  }
  return out;
}
