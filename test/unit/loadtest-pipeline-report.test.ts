/** The pipeline report's frontend and flood lines (pure logic). */
import { describe, expect, it } from 'vitest';
import { frontendFigures, type FeedResult } from '../../src/loadtest/pipeline-feeder.js';
import {
  renderFlood,
  renderFrontend,
  renderPipelineReport,
} from '../../src/loadtest/pipeline-report.js';
import type { PipelineReport } from '../../src/loadtest/pipeline-loadtest.js';

const t0 = 1_000_000;

function fed(requests: number, values: number, lastAfterMs: number): FeedResult {
  return {
    sent: requests,
    accepted: requests,
    acceptedReadings: values / 2,
    acceptedValues: values,
    rejected: {},
    firstAt: t0,
    lastAt: t0 + lastAfterMs,
  };
}

describe('frontend figures', () => {
  it('without a flood: the trickle over its own feeding time', () => {
    expect(frontendFigures(t0, fed(400, 80_000, 10_000), undefined)).toEqual({
      requests: 400,
      values: 80_000,
      seconds: 10,
      valuesPerSec: 8_000,
      streams: 'trickle',
    });
  });

  it('an HTTP flood counts too, over the whole feeding time (the later stream ends it)', () => {
    // The acceptance run's case: 200 trickle requests (40000 values) done at 10.62 s,
    // 20000 flood requests (40000 values) done at 27.7 s.
    const f = frontendFigures(t0, fed(200, 40_000, 10_620), {
      result: fed(20_000, 40_000, 27_700),
      viaHttp: true,
    });
    expect(f).toEqual({
      requests: 20_200,
      values: 80_000,
      seconds: 27.7,
      valuesPerSec: Math.round(80_000 / 27.7),
      streams: 'trickle+flood',
    });
    // A flood done before the trickle: the trickle's end ends the feeding.
    expect(
      frontendFigures(t0, fed(200, 40_000, 10_000), {
        result: fed(100, 1_000, 2_000),
        viaHttp: true,
      }).seconds,
    ).toBe(10);
  });

  it('a queue flood bypassed the frontend: trickle only', () => {
    expect(
      frontendFigures(t0, fed(200, 40_000, 10_000), {
        result: fed(100_000, 200_000, 30_000),
        viaHttp: false,
      }),
    ).toEqual({
      requests: 200,
      values: 40_000,
      seconds: 10,
      valuesPerSec: 4_000,
      streams: 'trickle',
    });
  });

  it('never divides by zero', () => {
    expect(frontendFigures(t0, fed(0, 0, 0), undefined).valuesPerSec).toBe(0);
  });
});

const lag = { count: 10, p50: 50, p90: 80, p99: 120, max: 130, mean: 60 };

function flood(
  via: 'http' | 'queue',
  peak: number | undefined,
): NonNullable<PipelineReport['flood']> {
  return {
    account: 'D0000001',
    messagesAccepted: 20_000,
    floodLagMs: lag,
    othersLagMs: { ...lag, p99: 175 },
    floodSeconds: 27.7,
    via,
    backlog: { peak, samples: 100, failed: peak === undefined ? 100 : 0, intervalMs: 250 },
  };
}

function fullReport(f: NonNullable<PipelineReport['flood']> | undefined): PipelineReport {
  return {
    machine: { cpus: 2, node: 'v20', date: '2026-12-04T00:00:00.000Z' },
    settings: {},
    accepted: { requests: 20_200, readings: 40_000, values: 80_000, rejected: {} },
    warmup: undefined,
    stored: 80_000,
    duplicates: 0,
    missing: 0,
    redeliveredValues: 0,
    seconds: 27.7,
    valuesPerSec: 2_888,
    frontend: {
      requests: 20_200,
      values: 80_000,
      seconds: 27.7,
      valuesPerSec: 2_888,
      streams: 'trickle+flood',
    },
    feedSeconds: 27.7,
    acceptedValuesPerSec: 2_888,
    lagMs: lag,
    transactions: { count: 10, meanValues: 8_000, meanMs: 10 },
    leases: { withMessages: 10, empty: 0, messages: 20_200 },
    ...(f ? { flood: f } : {}),
    ceiling: undefined,
    ratioOfCeiling: undefined,
    sustainedValuesPerSec: undefined,
    sustainedRatioOfCeiling: undefined,
    timedOut: false,
  };
}

describe('pipeline report lines', () => {
  it('the frontend line says which streams it counts', () => {
    const r = fullReport(flood('http', 5_000));
    expect(renderFrontend(r)).toBe(
      'accepted 2888 values/s, trickle and flood (20200 requests, 80000 values; feeding took 27.7 s, first request to last answer of either)',
    );
    const q = fullReport(flood('queue', 20_000));
    q.frontend = {
      requests: 200,
      values: 40_000,
      seconds: 10,
      valuesPerSec: 4_000,
      streams: 'trickle',
    };
    expect(renderFrontend(q)).toBe(
      'accepted 4000 values/s, trickle only: the flood was published straight to its queue (200 requests, 40000 values; feeding took 10 s)',
    );
    expect(renderFrontend(fullReport(undefined))).toBe(
      'accepted 2888 values/s (feeding took 27.7 s)',
    );
  });

  it('the flood line shows the peak backlog; no note when it piled up', () => {
    expect(renderFlood(flood('http', 5_000))).toEqual([
      '  flood:       D0000001 via http: 20000 messages in 27.7 s; peak backlog 5000 messages (ready, sampled every 250 ms); lag p99 flood 120 ms vs others 175 ms (others p50 50 ms)',
    ]);
  });

  it('a flood that never piled up gets a note suggesting --flood-via queue, and SKIP, not PASS', () => {
    const lines = renderFlood(flood('http', 4));
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe(
      '  note:        the flood never piled up (peak backlog 4 of 20000 messages, below 200): the consumers kept up with it, so flood isolation was not exercised; rerun with --flood-via queue for a real backlog',
    );
    expect(renderFlood(flood('queue', 4))[1]).toContain('rerun with a larger --flood');
    const text = renderPipelineReport(fullReport(flood('http', 4)));
    expect(text).toContain('  SKIP  flood isolation: not exercised:');
    expect(text).not.toContain('PASS  flood isolation');
    expect(text).toContain('  PASS  exactly once:');
  });

  it('an unread backlog says so', () => {
    expect(renderFlood(flood('http', undefined))[0]).toContain(
      'peak backlog unknown (100 queue checks failed)',
    );
    expect(renderFlood(flood('http', undefined))).toHaveLength(1);
  });

  it('the warm-up line counts the small JIT requests apart from the full-size ones', () => {
    const r = fullReport(undefined);
    r.warmup = { requests: 200, jitRequests: 5_000, values: 400_000, seconds: 17.5 };
    expect(renderPipelineReport(r)).toContain(
      '  warm-up:     5000 small requests (JIT), then 200 requests, 400000 values fed and stored in 17.5 s before the clock started',
    );
    r.warmup = { requests: 6, jitRequests: 0, values: 1_200, seconds: 1 };
    expect(renderPipelineReport(r)).toContain(
      '  warm-up:     6 requests, 1200 values fed and stored in 1 s before the clock started',
    );
  });
});
