/** What the cache sync reads from PostgreSQL: gateways with their account's state. */
import type pg from 'pg';
import type { CachedGateway } from '../adapters/redis/gateway-cache.js';
import { provisioningError } from '../provisioning/pg-errors.js';

interface Row {
  source_key: string;
  account_id: string;
  enabled: boolean;
  active: boolean;
  token_hash: string;
  token_hint: string;
  old_token_hash: string | null;
  old_token_expires_at: Date | null;
}

const SELECT = `SELECT g.source_key, g.account_id, g.enabled, a.active, g.token_hash, g.token_hint,
  g.old_token_hash, g.old_token_expires_at
  FROM gateways g JOIN accounts a ON a.id = g.account_id`;

function toCached(r: Row, now: number): CachedGateway {
  const expires = r.old_token_expires_at?.getTime() ?? null;
  const oldValid = r.old_token_hash !== null && expires !== null && expires > now;
  return {
    sourceKey: r.source_key,
    account: r.account_id,
    enabled: r.enabled,
    active: r.active,
    tokenHash: r.token_hash,
    oldHash: oldValid ? r.old_token_hash : null,
    oldExpires: oldValid ? expires : null,
    hint: r.token_hint,
  };
}

export interface GatewaySource {
  all(): Promise<CachedGateway[]>;
  bySourceKeys(keys: readonly string[]): Promise<CachedGateway[]>;
  byAccount(account: string): Promise<CachedGateway[]>;
}

export function createGatewaySource(pool: pg.Pool): GatewaySource {
  async function load(where: string, values: unknown[]): Promise<CachedGateway[]> {
    try {
      const r = await pool.query<Row>(`${SELECT} ${where}`, values);
      const now = Date.now();
      return r.rows.map((row) => toCached(row, now));
    } catch (err) {
      throw provisioningError(err);
    }
  }
  return {
    all: () => load('', []),
    bySourceKeys: (keys) => load('WHERE g.source_key = ANY($1)', [keys]),
    byAccount: (account) => load('WHERE g.account_id = $1', [account]),
  };
}
