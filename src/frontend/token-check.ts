/**
 * Gateway authentication against the Redis gateway cache, with an in-process
 * TTL cache of lookups (hits and misses) so a hot gateway costs no Redis round
 * trip per request. A revoked token, disabled gateway or deactivated account is
 * honoured within `ttlMs` of the cache sync writing it to Redis.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { IngestError, errorMessage } from '../core/errors.js';
import type { CachedGateway } from '../adapters/redis/gateway-cache.js';

export interface AuthenticatedGateway {
  sourceKey: string;
  account: string;
}

export interface TokenChecker {
  /** Resolves with the gateway, or throws UNAUTHORIZED / FORBIDDEN / CACHE_UNAVAILABLE. */
  authenticate(
    sourceKey: string | undefined,
    token: string | undefined,
  ): Promise<AuthenticatedGateway>;
  /** Lookup of the entry (cached), for rate limiting and admin pages. */
  lookup(sourceKey: string): Promise<CachedGateway | null>;
  clear(): void;
  readonly size: number;
}

const MAX_ENTRIES = 100_000;
// Compared against when the gateway is unknown, so both paths do the same work.
const DUMMY = createHash('sha256').update('no such gateway').digest();

function unauthorized(): IngestError {
  return new IngestError('UNAUTHORIZED', 'unknown source_key or wrong token');
}

export function createTokenChecker(deps: {
  load: (sourceKey: string) => Promise<CachedGateway | null>;
  ttlMs: number;
  now?: () => number;
}): TokenChecker {
  const now = deps.now ?? Date.now;
  const cache = new Map<string, { at: number; value: Promise<CachedGateway | null> }>();

  function lookup(sourceKey: string): Promise<CachedGateway | null> {
    const t = now();
    const hit = cache.get(sourceKey);
    if (hit && t - hit.at < deps.ttlMs) return hit.value;
    if (cache.size >= MAX_ENTRIES) cache.clear();
    // Concurrent misses share one Redis lookup; a failed lookup is not cached.
    const value = deps.load(sourceKey).catch((err: unknown) => {
      cache.delete(sourceKey);
      throw new IngestError('CACHE_UNAVAILABLE', `token cache unavailable: ${errorMessage(err)}`, {
        retryAfter: 2,
        cause: err,
      });
    });
    cache.set(sourceKey, { at: t, value });
    return value;
  }

  return {
    lookup,
    async authenticate(sourceKey, token) {
      if (!sourceKey || !token) throw unauthorized();
      const gw = await lookup(sourceKey);
      const given = createHash('sha256').update(token).digest();
      const current = gw ? Buffer.from(gw.tokenHash, 'hex') : DUMMY;
      let ok = current.length === 32 && timingSafeEqual(given, current);
      if (gw?.oldHash && gw.oldExpires !== null) {
        const old = Buffer.from(gw.oldHash, 'hex');
        const oldOk = old.length === 32 && timingSafeEqual(given, old);
        ok = ok || (oldOk && gw.oldExpires > now());
      }
      if (!gw || !ok) throw unauthorized();
      if (!gw.enabled) throw new IngestError('FORBIDDEN', 'gateway disabled');
      if (!gw.active) throw new IngestError('FORBIDDEN', 'account deactivated');
      return { sourceKey, account: gw.account };
    },
    clear: () => cache.clear(),
    get size() {
      return cache.size;
    },
  };
}
