import { describe, expect, it } from 'vitest';
import {
  counterRate,
  frontendCounters,
  frontendRates,
} from '../../../src/admin/metrics-frontend.js';
import { parsePrometheusText } from '../../../src/admin/metrics-text.js';

function scrape(
  requests200: number,
  requests503: number,
  readings: number,
  fast: number,
  slow: number,
) {
  return parsePrometheusText(`
ingest_frontend_requests_total{route="/readings",status="200"} ${requests200}
ingest_frontend_requests_total{route="/readings",status="503"} ${requests503}
ingest_frontend_requests_total{route="/metrics",status="200"} 999
ingest_frontend_readings_accepted_total ${readings}
ingest_frontend_readings_rejected_total 4
ingest_frontend_publish_confirm_seconds_bucket{le="0.002"} ${fast}
ingest_frontend_publish_confirm_seconds_bucket{le="0.02"} ${fast + slow}
ingest_frontend_publish_confirm_seconds_bucket{le="+Inf"} ${fast + slow}
ingest_frontend_in_flight 2
ingest_dispatcher_next_total{result="granted"} 5
`);
}

describe('frontendCounters', () => {
  it('finds requests (readings route only), non-2xx, readings accepted, confirm latency in ms', () => {
    const c = frontendCounters(scrape(100, 5, 3000, 10, 0), 1_000);
    expect(c.requests).toBe(105);
    expect(c.non2xx).toBe(5);
    expect(c.readings).toBe(3000);
    expect(c.inFlight).toBe(2);
    expect(c.confirmMs[0]).toEqual([2, 10]);
    expect(c.found).toEqual({
      requests: 'ingest_frontend_requests_total',
      readings: 'ingest_frontend_readings_accepted_total',
      confirm: 'ingest_frontend_publish_confirm_seconds',
    });
  });

  it('reads a readings counter with a result label, and a status_code label', () => {
    const c = frontendCounters(
      parsePrometheusText(`
http_requests_total{status_code="200"} 10
http_requests_total{status_code="429"} 2
ingest_frontend_readings_total{result="accepted"} 40
ingest_frontend_readings_total{result="rejected"} 7
`),
    );
    expect(c).toMatchObject({ requests: 12, non2xx: 2, readings: 40 });
  });

  it('reports what it did not find instead of failing', () => {
    const c = frontendCounters(parsePrometheusText('process_cpu_seconds_total 3\n'));
    expect(c).toMatchObject({ requests: 0, readings: 0, confirmMs: [], found: {} });
  });
});

describe('frontendRates', () => {
  it('turns two scrapes into per-second rates and latency quantiles of the window', () => {
    const a = frontendCounters(scrape(100, 5, 3000, 10, 0), 10_000);
    const b = frontendCounters(scrape(300, 9, 9000, 10, 100), 12_000);
    const r = frontendRates(a, b);
    expect(r.requestsPerSec).toBe(102); // (309 - 105) / 2 s
    expect(r.non2xxPerSec).toBe(2);
    expect(r.readingsPerSec).toBe(3000);
    // Every request of the window was slow (the fast ones were all before it).
    expect(r.confirmP50Ms).toBeGreaterThan(2);
    expect(r.confirmP99Ms).toBeLessThanOrEqual(20);
    expect(r.requestsTotal).toBe(309);
  });

  it('shows zero rates on the first scrape and handles a restart', () => {
    const first = frontendRates(undefined, frontendCounters(scrape(100, 0, 50, 1, 0), 0));
    expect(first.requestsPerSec).toBe(0);
    expect(counterRate(500, 20, 2)).toBe(10);
    expect(counterRate(5, 7, 0)).toBe(0);
  });
});
