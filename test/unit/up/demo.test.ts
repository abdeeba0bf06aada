import { describe, expect, it } from 'vitest';
import { validateReadings } from '../../../src/core/readings.js';
import { demoFleet, initialMeters, nextReadings } from '../../../src/up/demo-fleet.js';

describe('demo fleet', () => {
  it('has 5 accounts with 2 gateways each, MAC-like unique keys, fixed tokens', () => {
    const f = demoFleet();
    expect(f.accounts.map((a) => a.id)).toEqual([
      'D0000001',
      'D0000002',
      'D0000003',
      'D0000004',
      'D0000005',
    ]);
    expect(f.gateways).toHaveLength(10);
    expect(new Set(f.gateways.map((g) => g.sourceKey)).size).toBe(10);
    for (const g of f.gateways) expect(g.sourceKey).toMatch(/^([0-9A-F]{2}:){5}[0-9A-F]{2}$/);
    expect(demoFleet()).toEqual(f);
  });

  it('produces readings the frontend contract accepts, with counters that only grow', () => {
    const meters = initialMeters('02:DE:00:00:01:01', 4);
    const t0 = Date.UTC(2026, 10, 23, 12, 0, 0);
    const first = nextReadings(meters, t0, 1_000, () => 0.5);
    const second = nextReadings(meters, t0 + 60_000, 60_000, () => 0.5);
    const v = validateReadings(first);
    expect(v.ok).toBe(true);
    expect(first).toHaveLength(4);
    expect(first[0]!.ts).toBe('2026-11-23T12:00:00.000+00:00');
    const energy = (r: typeof first, i: number): number => r[i]!.values.find((x) => x.p === 402)!.v;
    for (let i = 0; i < 4; i++) {
      expect(energy(second, i)).toBeGreaterThan(energy(first, i));
      expect(second[i]!.sqn).toBe(first[i]!.sqn! + 1);
    }
    expect(new Set(first.map((r) => r.did)).size).toBe(4);
  });
});
