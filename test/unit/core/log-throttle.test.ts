import { describe, expect, it } from 'vitest';
import { createLogThrottle } from '../../../src/core/log-throttle.js';

describe('log throttle', () => {
  it('lets one line per key per window through, counting what it left out', () => {
    let t = 0;
    const pass = createLogThrottle(10_000, () => t);
    expect(pass('BROKER_UNAVAILABLE')).toEqual({ skipped: 0 });
    for (let i = 0; i < 1700; i++) expect(pass('BROKER_UNAVAILABLE')).toBeUndefined();
    // Another code is its own line.
    expect(pass('CACHE_UNAVAILABLE')).toEqual({ skipped: 0 });
    t = 9_999;
    expect(pass('BROKER_UNAVAILABLE')).toBeUndefined();
    t = 10_000;
    expect(pass('BROKER_UNAVAILABLE')).toEqual({ skipped: 1701 });
    expect(pass('BROKER_UNAVAILABLE')).toBeUndefined();
    t = 30_000;
    expect(pass('BROKER_UNAVAILABLE')).toEqual({ skipped: 1 });
  });
});
