import { describe, expect, it } from 'vitest';
import {
  defaultJitWarmup,
  defaultWarmup,
  JIT_WARMUP_MAX,
} from '../../../src/loadtest/pipeline-warmup.js';

describe('loadtest pipeline: default warm-up', () => {
  it('is one request per account', () => {
    // 200k readings at 500 per request: 400 requests over 200 accounts.
    expect(defaultWarmup(200, 200_000, 500)).toBe(200);
  });
  it('never sends more than the run itself', () => {
    // 200k readings at 3000 per request: the run sends 67 requests, to 67 accounts.
    expect(defaultWarmup(200, 200_000, 3_000)).toBe(67);
    expect(defaultWarmup(6, 10, 100)).toBe(1);
  });

  it('compiles the code first: 25 small requests per request of the run, at most 5000', () => {
    expect(defaultJitWarmup(200_000, 500)).toBe(JIT_WARMUP_MAX);
    expect(defaultJitWarmup(3_000, 100)).toBe(750);
    expect(defaultJitWarmup(10, 100)).toBe(25);
  });
});
