import { expect, it } from 'vitest';
import { createRateLimiter } from '../../../src/frontend/rate-limiter.js';
import { isIngestError } from '../../../src/core/errors.js';

it('allows a burst of 2x the rate, then refuses with Retry-After until tokens refill', () => {
  let now = 0;
  const rl = createRateLimiter(2, () => now);
  for (let i = 0; i < 4; i++) rl.take('GW');
  let err: unknown;
  try {
    rl.take('GW');
  } catch (e) {
    err = e;
  }
  expect(isIngestError(err, 'RATE_LIMITED')).toBe(true);
  expect(isIngestError(err) && err.retryAfter).toBe(1);
  // Another gateway has its own bucket.
  rl.take('OTHER');
  now = 500;
  rl.take('GW');
  expect(() => rl.take('GW')).toThrow(/rate limit/);
});

it('does nothing when disabled', () => {
  const rl = createRateLimiter(0);
  for (let i = 0; i < 1000; i++) rl.take('GW');
});
