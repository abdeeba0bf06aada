import { describe, expect, it } from 'vitest';
import {
  bucketDelta,
  histogramBuckets,
  histogramQuantile,
  parsePrometheusText,
  sumOf,
} from '../../../src/admin/metrics-text.js';

const TEXT = `# HELP ingest_frontend_requests_total requests by status
# TYPE ingest_frontend_requests_total counter
ingest_frontend_requests_total{route="/readings",status="200",component="frontend"} 120
ingest_frontend_requests_total{route="/readings",status="401",component="frontend"} 3
ingest_frontend_requests_total{route="/metrics",status="200",component="frontend"} 9
odd_label{msg="a \\"quoted\\", comma\\nline"} 1.5e3
ingest_frontend_confirm_seconds_bucket{le="0.005"} 10
ingest_frontend_confirm_seconds_bucket{le="0.01"} 30
ingest_frontend_confirm_seconds_bucket{le="0.05"} 40
ingest_frontend_confirm_seconds_bucket{le="+Inf"} 40
ingest_frontend_confirm_seconds_sum 0.4
no_labels 7 1700000000000
this is not a sample
broken{le="1" 3
nan_value NaN
`;

describe('parsePrometheusText', () => {
  const samples = parsePrometheusText(TEXT);

  it('reads names, labels (with escapes) and values, skipping comments and garbage', () => {
    expect(samples.find((s) => s.name === 'odd_label')).toEqual({
      name: 'odd_label',
      labels: { msg: 'a "quoted", comma\nline' },
      value: 1500,
    });
    expect(samples.find((s) => s.name === 'no_labels')?.value).toBe(7);
    expect(samples.some((s) => s.name === 'broken' || s.name === 'this')).toBe(false);
    expect(samples.some((s) => s.name === 'nan_value')).toBe(false);
  });

  it('sums a metric over label sets, optionally filtered', () => {
    expect(sumOf(samples, 'ingest_frontend_requests_total')).toBe(132);
    expect(sumOf(samples, 'ingest_frontend_requests_total', (l) => l.status !== '200')).toBe(3);
    expect(sumOf(samples, 'missing')).toBe(0);
  });

  it('collects cumulative buckets in order, +Inf last', () => {
    const b = histogramBuckets(samples, 'ingest_frontend_confirm_seconds');
    expect(b).toEqual([
      [0.005, 10],
      [0.01, 30],
      [0.05, 40],
      [Infinity, 40],
    ]);
  });
});

describe('histogramQuantile', () => {
  const b = [
    [0.005, 10],
    [0.01, 30],
    [0.05, 40],
    [Infinity, 40],
  ] as const;
  it('interpolates inside the bucket holding the rank', () => {
    // rank 20 of 40 lies halfway through the (0.005, 0.01] bucket (10 -> 30).
    expect(histogramQuantile(0.5, b)).toBeCloseTo(0.0075, 6);
    // rank 39.6: in (0.01, 0.05], 9.6 of its 10.
    expect(histogramQuantile(0.99, b)).toBeCloseTo(0.01 + 0.04 * 0.96, 6);
  });
  it('is undefined for an empty histogram and the last finite bound for the +Inf bucket', () => {
    expect(histogramQuantile(0.5, [])).toBeUndefined();
    expect(histogramQuantile(0.5, [[Infinity, 0]])).toBeUndefined();
    expect(
      histogramQuantile(0.99, [
        [1, 1],
        [Infinity, 100],
      ]),
    ).toBe(1);
  });
});

describe('bucketDelta', () => {
  it('subtracts the previous scrape', () => {
    expect(
      bucketDelta(
        [
          [1, 5],
          [Infinity, 6],
        ],
        [
          [1, 8],
          [Infinity, 10],
        ],
      ),
    ).toEqual([
      [1, 3],
      [Infinity, 4],
    ]);
  });
  it('takes the new counts whole after a restart (counters went down)', () => {
    expect(
      bucketDelta(
        [
          [1, 50],
          [Infinity, 60],
        ],
        [
          [1, 2],
          [Infinity, 3],
        ],
      ),
    ).toEqual([
      [1, 2],
      [Infinity, 3],
    ]);
  });
});
