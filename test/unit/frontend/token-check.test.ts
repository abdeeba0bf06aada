import { describe, expect, it } from 'vitest';
import { createTokenChecker } from '../../../src/frontend/token-check.js';
import { hashToken } from '../../../src/provisioning/tokens.js';
import type { CachedGateway } from '../../../src/adapters/redis/gateway-cache.js';
import { isIngestError } from '../../../src/core/errors.js';

const TOKEN = 'a'.repeat(43);
const OLD = 'b'.repeat(43);

function gateway(over: Partial<CachedGateway> = {}): CachedGateway {
  return {
    sourceKey: 'GW',
    account: 'ACC',
    enabled: true,
    active: true,
    tokenHash: hashToken(TOKEN),
    oldHash: null,
    oldExpires: null,
    hint: 'aaaa',
    ...over,
  };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (err) {
    return isIngestError(err) ? err.code : String(err);
  }
}

describe('createTokenChecker', () => {
  it('accepts the right token, refuses wrong, missing and unknown alike', async () => {
    const entries = new Map([['GW', gateway()]]);
    const t = createTokenChecker({ load: async (k) => entries.get(k) ?? null, ttlMs: 1000 });
    expect(await t.authenticate('GW', TOKEN)).toEqual({ sourceKey: 'GW', account: 'ACC' });
    expect(await code(t.authenticate('GW', OLD))).toBe('UNAUTHORIZED');
    expect(await code(t.authenticate('GW', undefined))).toBe('UNAUTHORIZED');
    expect(await code(t.authenticate(undefined, TOKEN))).toBe('UNAUTHORIZED');
    expect(await code(t.authenticate('NOPE', TOKEN))).toBe('UNAUTHORIZED');
  });

  it('403 for a disabled gateway or an inactive account, only with the right token', async () => {
    const entries = new Map([
      ['D', gateway({ enabled: false })],
      ['I', gateway({ active: false })],
    ]);
    const t = createTokenChecker({ load: async (k) => entries.get(k) ?? null, ttlMs: 1000 });
    expect(await code(t.authenticate('D', TOKEN))).toBe('FORBIDDEN');
    expect(await code(t.authenticate('I', TOKEN))).toBe('FORBIDDEN');
    expect(await code(t.authenticate('D', OLD))).toBe('UNAUTHORIZED');
  });

  it('honours the old token until it expires', async () => {
    let now = 1_000;
    const g = gateway({ oldHash: hashToken(OLD), oldExpires: 2_000 });
    const t = createTokenChecker({ load: async () => g, ttlMs: 10_000, now: () => now });
    expect((await t.authenticate('GW', OLD)).account).toBe('ACC');
    now = 2_001;
    expect(await code(t.authenticate('GW', OLD))).toBe('UNAUTHORIZED');
    expect((await t.authenticate('GW', TOKEN)).account).toBe('ACC');
  });

  it('caches hits and misses for the TTL, sharing concurrent lookups', async () => {
    let now = 0;
    let loads = 0;
    let entry: CachedGateway | null = null;
    const t = createTokenChecker({
      load: async () => {
        loads += 1;
        return entry;
      },
      ttlMs: 5_000,
      now: () => now,
    });
    await Promise.all([code(t.authenticate('GW', TOKEN)), code(t.authenticate('GW', TOKEN))]);
    expect(loads).toBe(1);
    entry = gateway();
    // The miss is still cached: a gateway added now works once the TTL has passed.
    expect(await code(t.authenticate('GW', TOKEN))).toBe('UNAUTHORIZED');
    now = 5_000;
    expect(await code(t.authenticate('GW', TOKEN))).toBe('OK');
    expect(loads).toBe(2);
    entry = gateway({ enabled: false });
    now = 9_999;
    expect(await code(t.authenticate('GW', TOKEN))).toBe('OK');
    now = 10_000;
    expect(await code(t.authenticate('GW', TOKEN))).toBe('FORBIDDEN');
  });

  it('503 when the cache cannot be read, and the failure is not cached', async () => {
    let fail = true;
    const t = createTokenChecker({
      load: async () => {
        if (fail) throw new Error('ECONNREFUSED');
        return gateway();
      },
      ttlMs: 60_000,
    });
    expect(await code(t.authenticate('GW', TOKEN))).toBe('CACHE_UNAVAILABLE');
    fail = false;
    expect(await code(t.authenticate('GW', TOKEN))).toBe('OK');
  });
});
