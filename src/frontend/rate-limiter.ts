/** Per-gateway token bucket: `rate` requests per second, bursts up to 2x. In-process. */
import { IngestError } from '../core/errors.js';

export interface RateLimiter {
  /** Throws RATE_LIMITED (429 with Retry-After) when the gateway is over its rate. */
  take(key: string): void;
}

export function createRateLimiter(rate: number, now: () => number = Date.now): RateLimiter {
  const burst = Math.max(1, rate * 2);
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(key) {
      if (rate <= 0) return;
      const t = now();
      const b = buckets.get(key) ?? { tokens: burst, at: t };
      b.tokens = Math.min(burst, b.tokens + ((t - b.at) / 1000) * rate);
      b.at = t;
      if (buckets.size > 100_000) buckets.clear();
      buckets.set(key, b);
      if (b.tokens < 1) {
        const retryAfter = Math.max(1, Math.ceil((1 - b.tokens) / rate));
        throw new IngestError('RATE_LIMITED', `rate limit of ${rate} requests/s exceeded`, {
          retryAfter,
        });
      }
      b.tokens -= 1;
    },
  };
}
