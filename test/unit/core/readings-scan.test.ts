/**
 * The fast scan against the reference path (JSON.parse + validateReadings) on
 * generated bodies: valid ones in many spellings, invalid ones, and random
 * byte mutations of both. Whatever the scan accepts, the reference accepts with
 * the same readings and values; checkReadingsBody agrees with the reference on
 * every body.
 */
import { describe, expect, it } from 'vitest';
import { scanReadings } from '../../../src/core/readings-scan.js';
import { checkReadingsBody, chunkReadings } from '../../../src/core/readings-body.js';
import { validateReadings, type Reading } from '../../../src/core/readings.js';
import { valueRows, type ValueRow } from '../../../src/consumer/readings-rows.js';
import { makeBodyTemplate } from '../../../src/loadtest/readings-generator.js';

/** Deterministic PRNG (mulberry32), so a failure names a reproducible seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generator(seed: number) {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const chance = (p: number): boolean => rand() < p;
  const ws = (): string => (chance(0.15) ? pick([' ', '\n', '\t', '\r\n  ', '  ']) : '');

  const did = (): string =>
    pick([
      '"12"',
      '"dev-7"',
      '12',
      '12.50',
      '1e2',
      '-0',
      '"Zähler"',
      '"a\\u0041b"',
      '"tab\\there"',
      '"\\u0000"',
      '""',
      'null',
      'true',
      '[1]',
      '1e400',
    ]);
  const param = (): string =>
    pick([
      '402',
      '404',
      '0',
      '-1',
      '-0',
      '402.0',
      '4.02e2',
      '2147483647',
      '-2147483648',
      '2147483648',
      '1.5',
      '"402"',
      'null',
      '1e10',
    ]);
  const value = (): string =>
    pick([
      '191892.0',
      '70010',
      '-3.25',
      '0',
      '-0',
      '-0.0',
      '1e3',
      '1.5E-3',
      '1e400',
      '-1e400',
      '1e-400',
      '12345678901234567890123',
      '0.00000000000000000000001',
      '"1"',
      'null',
      'true',
    ]);
  const ts = (): string =>
    pick([
      '"2015-04-21T23:15:00+00:00"',
      '"2015-04-21T23:15:00Z"',
      '"2015-04-21T23:15:00.123+02:00"',
      '"2015-04-21 23:15:00+0000"',
      '"2015-04-21T23:15+01"',
      '"2016-02-29T00:00:00Z"',
      '"2015-02-29T00:00:00Z"',
      '"2015-02-30T00:00:00Z"',
      '"2015-04-21T24:00:00Z"',
      '"2015-04-21T23:15:00+16:00"',
      '"0000-01-01T00:00:00Z"',
      '"2015-04-21"',
      '"2015-04-21T23:15:00"',
      '"2015-04-21T23:15:00\\u002B00:00"',
      '1429658100',
      'null',
    ]);
  const sqn = (): string =>
    pick(['2152', '0', '-5', 'null', '2152.0', '1e3', '3.5', '"1"', '1e12']);
  const extra = (): string =>
    pick([
      '{}',
      '[]',
      '{"a":[1,2,{"b":"c"}],"d":null}',
      'false',
      '"x\\"y"',
      '-1.5e-7',
      '[[[[[]]]]]',
    ]);

  const member = (k: string, v: string): string => `${ws()}"${k}"${ws()}:${ws()}${v}${ws()}`;
  const obj = (members: string[]): string => `{${members.join(',')}${ws()}}`;

  function valueObject(): string {
    const m: string[] = [];
    if (!chance(0.03)) m.push(member('p', chance(0.93) ? pick(['402', '404', '7']) : param()));
    if (!chance(0.03)) m.push(member('v', chance(0.93) ? pick(['1.5', '70010', '-2']) : value()));
    if (chance(0.1)) m.push(member('unit', '"kWh"'));
    if (chance(0.05)) m.push(member('p', param()));
    for (let i = m.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [m[i], m[j]] = [m[j]!, m[i]!];
    }
    return obj(m);
  }

  function reading(): string {
    const m: string[] = [];
    if (!chance(0.03)) m.push(member('did', chance(0.9) ? '"12"' : did()));
    if (!chance(0.03)) {
      const n = chance(0.05) ? 0 : 1 + Math.floor(rand() * 3);
      const vals = Array.from({ length: n }, valueObject);
      m.push(member('values', chance(0.03) ? pick(['{}', 'null', '[1]']) : `[${vals.join(',')}]`));
    }
    if (chance(0.6)) m.push(member('sqn', chance(0.9) ? '2152' : sqn()));
    if (!chance(0.03)) m.push(member('ts', chance(0.88) ? '"2015-04-21T23:15:00+00:00"' : ts()));
    if (chance(0.1)) m.push(member('meta', extra()));
    if (chance(0.05)) m.push(member(pick(['did', 'ts', 'values', 'sqn']), pick([did(), ts()])));
    if (chance(0.02)) m.push(member('d\\u0069d', '"escaped-key"'));
    for (let i = m.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [m[i], m[j]] = [m[j]!, m[i]!];
    }
    return obj(m);
  }

  function body(): string {
    if (chance(0.1)) return `${ws()}${reading()}${ws()}`;
    const n = chance(0.03) ? 0 : 1 + Math.floor(rand() * 4);
    return `${ws()}[${Array.from({ length: n }, () => `${ws()}${reading()}`).join(',')}${ws()}]${ws()}`;
  }

  const NOISE = '{}[],:"\\ 0-1.eE+anutlr\u0000\u001f\n\u00e9';
  function mutate(s: string): string {
    const b = [...s];
    const edits = 1 + Math.floor(rand() * 3);
    for (let k = 0; k < edits; k++) {
      const at = Math.floor(rand() * (b.length + 1));
      const op = rand();
      if (op < 0.4) b.splice(at, 1);
      else if (op < 0.7) b.splice(at, 0, pick([...NOISE]));
      else b[Math.min(at, b.length - 1)] = pick([...NOISE]);
    }
    return b.join('');
  }

  return { body, mutate, chance };
}

interface Reference {
  ok: boolean;
  readings?: number;
  values?: number;
  rows?: ValueRow[];
}

function reference(text: string): Reference {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false };
  }
  const v = validateReadings(parsed);
  if (!v.ok) return { ok: false };
  return { ok: true, readings: v.readings.length, values: v.valueCount, rows: rowsOf(v.readings) };
}

/** -0 is stored as 0 (COPY text prints the JavaScript number); compare it so. */
const norm = (rows: ValueRow[]): ValueRow[] =>
  rows.map((r) => ({
    ...r,
    param: r.param === 0 ? 0 : r.param,
    value: r.value === 0 ? 0 : r.value,
    sqn: r.sqn === 0 ? 0 : r.sqn,
  }));

function rowsOf(readings: readonly Reading[]): ValueRow[] {
  return norm(
    readings.flatMap((r) =>
      r.values.map((x) => ({
        device: r.did,
        param: x.p,
        ts: r.ts,
        value: x.v,
        sqn: r.sqn ?? null,
      })),
    ),
  );
}

describe('scanReadings against JSON.parse + validateReadings', () => {
  it('never accepts what the reference refuses, and agrees on what it accepts', () => {
    let fastAccepted = 0;
    let validTotal = 0;
    for (let seed = 1; seed <= 4000; seed++) {
      const g = generator(seed);
      const base = g.body();
      for (const text of [base, g.mutate(base), g.mutate(base)]) {
        const ref = reference(text);
        const raw = Buffer.from(text);
        const fast = scanReadings(raw);
        const ctx = { seed, text };
        if (fast) {
          expect(ref.ok, JSON.stringify(ctx)).toBe(true);
          expect({ ...ctx, readings: fast.readings, values: fast.values }).toEqual({
            ...ctx,
            readings: ref.readings,
            values: ref.values,
          });
          expect({
            ...ctx,
            rows: norm(valueRows({ ok: true, ...fast, bytes: raw, layout: fast })),
          }).toEqual({
            ...ctx,
            rows: ref.rows,
          });
          fastAccepted++;
        }
        const checked = checkReadingsBody(raw);
        expect({ ...ctx, ok: checked.ok }).toEqual({ ...ctx, ok: ref.ok });
        if (checked.ok) {
          validTotal++;
          expect({ ...ctx, rows: norm(valueRows(checked)) }).toEqual({ ...ctx, rows: ref.rows });
        }
      }
    }
    // The generator makes plenty of valid bodies, and the scan vouches for most of them.
    expect(validTotal).toBeGreaterThan(1200);
    expect(fastAccepted / validTotal).toBeGreaterThan(0.8);
  });

  it('accepts the load generator bodies without the reference path', () => {
    const t = makeBodyTemplate(3000);
    const raw = Buffer.from(t.body(7));
    const fast = scanReadings(raw);
    expect(fast?.readings).toBe(3000);
    expect(fast?.values).toBe(6000);
  });

  it('says "too large" for a body over 128 MiB instead of scanning it', () => {
    const huge = Buffer.alloc(2 ** 27 + 1, 0x20);
    expect(checkReadingsBody(huge)).toMatchObject({ ok: false, kind: 'too-large' });
  });

  it('refuses a timestamp PostgreSQL cannot store even where Date.parse takes it', () => {
    const r = (ts: string) =>
      checkReadingsBody(Buffer.from(`[{"did":"1","values":[{"p":1,"v":1}],"ts":"${ts}"}]`));
    expect(r('2015-02-30T00:00:00Z')).toMatchObject({ ok: false, kind: 'invalid', index: 0 });
    expect(r('2015-04-21T23:15:00+16:00')).toMatchObject({ ok: false, kind: 'invalid' });
    expect(r('0000-01-01T00:00:00Z')).toMatchObject({ ok: false, kind: 'invalid' });
    expect(r('2016-02-29T00:00:00Z')).toMatchObject({ ok: true });
  });
});

describe('chunkReadings', () => {
  it('cuts chunks from the bytes; each chunk checks to its own readings', () => {
    const text = `[ ${Array.from(
      { length: 7 },
      (_, i) =>
        `{"did":"d${i}","values":[{"p":1,"v":${i}}${i % 2 ? ',{"p":2,"v":0}' : ''}],"ts":"2015-04-21T00:00:00Z"}`,
    ).join(' ,\n')} ]`;
    const checked = checkReadingsBody(Buffer.from(text));
    if (!checked.ok) throw new Error('expected valid');
    const chunks = chunkReadings(checked, 3);
    expect(chunks.map((c) => [c.readings, c.values])).toEqual([
      [3, 4],
      [3, 5],
      [1, 1],
    ]);
    const all = chunks.flatMap((c) => {
      const again = checkReadingsBody(c.body);
      if (!again.ok) throw new Error('chunk invalid');
      return valueRows(again);
    });
    expect(all).toEqual(valueRows(checked));
    expect(chunkReadings(checked, 10)[0]?.body).toBe(checked.bytes);
    // A transient layout (reused arrays, as the frontend scans) cuts the same chunks.
    const transient = checkReadingsBody(Buffer.from(text), { transient: true });
    if (!transient.ok) throw new Error('expected valid');
    expect(chunkReadings(transient, 3)).toEqual(chunks);
  });

  it('a body only the reference path accepts is chunked from its canonical form', () => {
    const text =
      '[{"d\\u0069d":"a","values":[{"p":1,"v":1}],"ts":"2015-04-21T00:00:00Z"},{"did":"b","values":[{"p":1,"v":2}],"ts":"2015-04-21T00:00:00Z"}]';
    expect(scanReadings(Buffer.from(text))).toBeUndefined();
    const checked = checkReadingsBody(Buffer.from(text));
    if (!checked.ok) throw new Error('expected valid');
    expect(chunkReadings(checked, 1).map((c) => c.body.toString())).toEqual([
      '[{"did":"a","values":[{"p":1,"v":1}],"ts":"2015-04-21T00:00:00Z"}]',
      '[{"did":"b","values":[{"p":1,"v":2}],"ts":"2015-04-21T00:00:00Z"}]',
    ]);
  });
});
