/** Which targets a pipeline report is judged on (pure logic). */
import { describe, expect, it } from 'vitest';
import {
  floodBacklogThreshold,
  floodPiledUp,
  pipelineFailed,
  pipelineVerdicts,
  verdictMark,
} from '../../src/loadtest/pipeline-report.js';
import type { PipelineReport } from '../../src/loadtest/pipeline-loadtest.js';

const lag = { count: 10, min: 1, p50: 50, p90: 80, p99: 90, max: 95, mean: 60 };

/** `peak`: the flood's peak backlog ('unread': its queue depth could not be read). */
function report(flood: boolean, peak: number | 'unread' = 5_000, othersP99 = 90): PipelineReport {
  const read = peak === 'unread' ? undefined : peak;
  return {
    accepted: { requests: 10, readings: 100, values: 200, rejected: {} },
    warmup: undefined,
    stored: 200,
    duplicates: 0,
    missing: 0,
    timedOut: false,
    valuesPerSec: 9_000,
    ratioOfCeiling: 0.05,
    ceiling: { rowsPerSec: 180_000 },
    lagMs: lag,
    ...(flood
      ? {
          flood: {
            account: 'F',
            messagesAccepted: 20_000,
            floodLagMs: lag,
            othersLagMs: { ...lag, p99: othersP99 },
            floodSeconds: 1,
            via: 'http',
            backlog: {
              peak: read,
              samples: read === undefined ? 0 : 40,
              failed: 0,
              intervalMs: 250,
            },
          },
        }
      : {}),
  } as unknown as PipelineReport; // only the fields the verdicts read
}

const judged = (r: PipelineReport): Array<[string, string]> =>
  pipelineVerdicts(r).map((v) => [v.name, verdictMark(v)]);

describe('pipeline verdicts', () => {
  it('a plain run is judged on exactly once, throughput and share of ceiling', () => {
    expect(pipelineVerdicts(report(false)).map((v) => [v.name, v.ok])).toEqual([
      ['exactly once', true],
      ['throughput', false],
      ['share of ceiling', false],
    ]);
  });

  it('a flood run (paced trickle) on exactly once and isolation, not on its rates', () => {
    expect(pipelineVerdicts(report(true)).map((v) => [v.name, v.ok])).toEqual([
      ['exactly once', true],
      ['flood isolation', true],
    ]);
    expect(judged(report(true))).toEqual([
      ['exactly once', 'PASS'],
      ['flood isolation', 'PASS'],
    ]);
    expect(pipelineVerdicts(report(true))[1]!.detail).toContain('held up to 5000 messages');
  });

  it('a flood that piled up and slowed the others misses isolation', () => {
    expect(judged(report(true, 5_000, 6_000))[1]).toEqual(['flood isolation', 'MISS']);
  });

  it('a flood that never piled up does not pass isolation: SKIP, with the reason, and the run does not fail', () => {
    const r = report(true, 3);
    const [, isolation] = pipelineVerdicts(r);
    expect(isolation).toMatchObject({ name: 'flood isolation', ok: false, skipped: true });
    expect(verdictMark(isolation!)).toBe('SKIP');
    expect(isolation!.detail).toMatch(/^not exercised: .*peak backlog 3 messages, below 200\)/);
    expect(isolation!.detail).toContain("others' lag p99 90 ms");
    expect(pipelineFailed(r)).toBe(false);
    // Even with the others over the target: the flood did not cause it, so it is not judged.
    expect(judged(report(true, 3, 6_000))[1]).toEqual(['flood isolation', 'SKIP']);
  });

  it('an unmeasured backlog is judged on the lag alone, and says so', () => {
    const [, isolation] = pipelineVerdicts(report(true, 'unread'));
    expect(verdictMark(isolation!)).toBe('PASS');
    expect(isolation!.detail).toContain('whether the flood piled up is unknown');
  });

  it('only a lost or duplicated value fails the run', () => {
    expect(pipelineFailed(report(true, 5_000, 6_000))).toBe(false);
    expect(pipelineFailed({ ...report(true), missing: 1 })).toBe(true);
  });
});

describe('flood backlog threshold', () => {
  it('is at least 10 messages, and 1% of a large flood', () => {
    expect(floodBacklogThreshold(5)).toBe(10);
    expect(floodBacklogThreshold(1_000)).toBe(10);
    expect(floodBacklogThreshold(20_000)).toBe(200);
    expect(floodBacklogThreshold(100_001)).toBe(1_001);
  });

  it('a flood piled up when its peak reached the threshold', () => {
    const f = (peak: number | undefined) => ({
      messagesAccepted: 20_000,
      backlog: { peak, samples: 1, failed: 0, intervalMs: 250 },
    });
    expect(floodPiledUp(f(199))).toBe(false);
    expect(floodPiledUp(f(200))).toBe(true);
    expect(floodPiledUp(f(0))).toBe(false);
    expect(floodPiledUp(f(undefined))).toBeUndefined();
  });
});
