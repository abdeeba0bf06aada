/**
 * The gateway cache in Redis, written by `ingest sync-cache` and read by the
 * frontend. Layout (prefix = config.redisPrefix):
 *   <prefix>gw:<source_key>  hash {account, enabled, active, hash, old_hash, old_expires, hint, version}
 *   <prefix>gateways         set of cached source keys (so deleted ones can be found and removed)
 * Tokens are only ever present as SHA-256 hashes.
 */
import type { Redis } from 'ioredis';

export interface CachedGateway {
  sourceKey: string;
  account: string;
  enabled: boolean;
  /** Whether the account is active. */
  active: boolean;
  tokenHash: string;
  /** Previous token hash, valid until oldExpires (ms since epoch). */
  oldHash: string | null;
  oldExpires: number | null;
  hint: string;
}

export function gatewayKey(prefix: string, sourceKey: string): string {
  return `${prefix}gw:${sourceKey}`;
}

export function gatewayIndexKey(prefix: string): string {
  return `${prefix}gateways`;
}

export function toHash(g: CachedGateway): Record<string, string> {
  const h: Record<string, string> = {
    account: g.account,
    enabled: g.enabled ? '1' : '0',
    active: g.active ? '1' : '0',
    hash: g.tokenHash,
    hint: g.hint,
  };
  if (g.oldHash && g.oldExpires !== null) {
    h.old_hash = g.oldHash;
    h.old_expires = String(g.oldExpires);
  }
  return h;
}

export function fromHash(sourceKey: string, h: Record<string, string>): CachedGateway | null {
  if (!h.account || !h.hash) return null;
  const oldExpires = h.old_expires ? Number(h.old_expires) : null;
  return {
    sourceKey,
    account: h.account,
    enabled: h.enabled === '1',
    active: h.active === '1',
    tokenHash: h.hash,
    oldHash: h.old_hash ?? null,
    oldExpires: Number.isFinite(oldExpires) ? oldExpires : null,
    hint: h.hint ?? '',
  };
}

/** Same cached content (field by field)? */
export function sameEntry(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}

export function createGatewayCache(redis: Redis, prefix: string) {
  return {
    async get(sourceKey: string): Promise<CachedGateway | null> {
      return fromHash(sourceKey, await redis.hgetall(gatewayKey(prefix, sourceKey)));
    },
    async cachedKeys(): Promise<string[]> {
      return redis.smembers(gatewayIndexKey(prefix));
    },
    /** Raw hashes of these gateways, in order (empty object: not cached). */
    async rawEntries(keys: readonly string[]): Promise<Array<Record<string, string>>> {
      if (keys.length === 0) return [];
      const pipe = redis.pipeline();
      for (const k of keys) pipe.hgetall(gatewayKey(prefix, k));
      const res = (await pipe.exec()) ?? [];
      return res.map(([err, v]) => {
        if (err) throw err;
        return (v ?? {}) as Record<string, string>;
      });
    },
    /** Replace these entries and drop those, in one atomic round trip. */
    async apply(put: readonly CachedGateway[], remove: readonly string[]): Promise<void> {
      if (put.length === 0 && remove.length === 0) return;
      const multi = redis.multi();
      for (const g of put) {
        const key = gatewayKey(prefix, g.sourceKey);
        multi.del(key);
        multi.hset(key, toHash(g));
        multi.sadd(gatewayIndexKey(prefix), g.sourceKey);
      }
      for (const k of remove) {
        multi.del(gatewayKey(prefix, k));
        multi.srem(gatewayIndexKey(prefix), k);
      }
      const res = await multi.exec();
      for (const [err] of res ?? []) if (err) throw err;
    },
  };
}

export type GatewayCache = ReturnType<typeof createGatewayCache>;
