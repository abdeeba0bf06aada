import { describe, expect, it } from 'vitest';
import { percentile, summarize } from '../../src/loadtest/stats.js';

describe('latency summary', () => {
  it('computes nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(summarize(xs)).toMatchObject({ count: 100, mean: 50.5, p90: 90, max: 100 });
  });

  it('is all zeros for no samples', () => {
    expect(summarize([])).toMatchObject({ count: 0, mean: 0, p50: 0, max: 0 });
  });
});
