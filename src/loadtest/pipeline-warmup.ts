/**
 * How much `ingest loadtest pipeline` feeds before its clock starts (no imports:
 * the CLI computes the defaults without loading the load test).
 */

/**
 * Readings per JIT warm-up request: small, so thousands of requests (what V8 needs
 * before it optimizes a function called once per request) take seconds, not minutes.
 */
export const JIT_WARMUP_READINGS = 20;

/** Most small requests of the default JIT warm-up (about 15 s here). */
export const JIT_WARMUP_MAX = 5_000;

/** Requests a run of `readings` sends at `perRequest` readings each. */
export function runRequests(readings: number, perRequest: number): number {
  return Math.ceil(readings / perRequest);
}

/**
 * Full-size warm-up requests by default: one per account the run will send to (every
 * gateway's token cached, every queue claimed and drained once); never more requests
 * than the run.
 */
export function defaultWarmup(accounts: number, readings: number, perRequest: number): number {
  return Math.min(accounts, runRequests(readings, perRequest));
}

/**
 * JIT warm-up requests by default: 25 per request the run sends, at most 5000.
 * Measured here (bench/RESULTS.md, 2026-12-04 22:10): after the one-per-account
 * warm-up alone, V8 still compiled ~110 functions, about 1 CPU-s, inside the
 * measured window of the default run.
 */
export function defaultJitWarmup(readings: number, perRequest: number): number {
  return Math.min(JIT_WARMUP_MAX, 25 * runRequests(readings, perRequest));
}
