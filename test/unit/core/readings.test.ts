import { describe, expect, it } from 'vitest';
import { validateReadings } from '../../../src/core/readings.js';

const good = {
  did: '12',
  values: [
    { p: 402, v: 191892.0 },
    { p: 404, v: 70010.0 },
  ],
  sqn: 2152,
  ts: '2015-04-21T23:15:00+00:00',
};

describe('validateReadings', () => {
  it('accepts an array and counts values', () => {
    const r = validateReadings([good, { ...good, did: 13 }]);
    expect(r).toMatchObject({ ok: true, valueCount: 4 });
    if (r.ok) expect(r.readings[1]?.did).toBe('13');
  });

  it('accepts a single reading object', () => {
    expect(validateReadings(good)).toMatchObject({ ok: true, valueCount: 2 });
  });

  it.each([
    [{ ...good, did: '' }, /did/],
    [{ ...good, values: [] }, /values must be a non-empty array/],
    [{ ...good, values: [{ p: 1.5, v: 1 }] }, /values\[0\]\.p/],
    [{ ...good, values: [{ p: 1, v: 'x' }] }, /values\[0\]\.v/],
    [{ ...good, sqn: 'a' }, /sqn/],
    [{ ...good, ts: '2015-04-21T23:15:00' }, /ts must be/],
    [{ ...good, ts: 'yesterday' }, /ts must be/],
    ['nope', /object/],
  ])('rejects %j', (bad, why) => {
    const r = validateReadings([good, bad]);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.index).toBe(1);
      expect(r.reason).toMatch(why);
    }
  });

  it('rejects an empty array, pointing at no reading', () => {
    expect(validateReadings([])).toEqual({
      ok: false,
      index: -1,
      reason: 'the body holds no readings (an empty array)',
    });
  });
});

describe('validateReadings: what PostgreSQL could not store', () => {
  const base = { did: '1', values: [{ p: 1, v: 1 }], ts: '2015-04-21T23:15:00+00:00' };
  it.each([
    [{ ...base, did: 'a\u0000b' }, /NUL/],
    [{ ...base, values: [{ p: 2 ** 31, v: 1 }] }, /values\[0\]\.p .*out of range/],
    [{ ...base, sqn: -(2 ** 31) - 1 }, /sqn .*out of range/],
  ])('rejects %j', (bad, why) => {
    const r = validateReadings(bad);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(why);
  });

  it('accepts the int32 bounds themselves', () => {
    expect(
      validateReadings({ ...base, values: [{ p: 2 ** 31 - 1, v: 1 }], sqn: -(2 ** 31) }).ok,
    ).toBe(true);
  });
});
