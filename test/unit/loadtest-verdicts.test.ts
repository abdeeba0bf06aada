/** Which targets a pipeline report is judged on (pure logic). */
import { describe, expect, it } from 'vitest';
import { pipelineVerdicts } from '../../src/loadtest/pipeline-report.js';
import type { PipelineReport } from '../../src/loadtest/pipeline-loadtest.js';

const lag = { count: 10, min: 1, p50: 50, p90: 80, p99: 90, max: 95, mean: 60 };

function report(flood: boolean): PipelineReport {
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
            messagesAccepted: 5,
            floodLagMs: lag,
            othersLagMs: lag,
            floodSeconds: 1,
          },
        }
      : {}),
  } as unknown as PipelineReport; // only the fields the verdicts read
}

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
  });
});
