/**
 * Accounts and gateways in PostgreSQL, the system of record. Every change fires
 * the 'ingest_gateways' trigger, which the cache sync turns into Redis updates.
 */
import type pg from 'pg';
import { accountQueueName, type Config } from '../core/config.js';
import { IngestError, errorMessage } from '../core/errors.js';
import type { AmqpConnection } from '../adapters/rabbitmq/connection.js';
import { assertAccountQueue } from '../adapters/rabbitmq/topology.js';
import { checkTokenFormat, generateToken, hashToken, maskToken, tokenHint } from './tokens.js';
import { provisioningError } from './pg-errors.js';
import { isForeignKeyViolation, isUniqueViolation } from '../adapters/postgres/pg-errors.js';

export interface Account {
  id: string;
  name: string;
  active: boolean;
  gateways: number;
  createdAt: string;
}

export interface Gateway {
  sourceKey: string;
  accountId: string;
  accountActive: boolean;
  enabled: boolean;
  /** Masked current token, e.g. "AbCd************". */
  token: string;
  /** Masked previous token while it is still valid after a rotation. */
  oldToken: string | null;
  oldTokenExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface QueueDeclaration {
  name: string;
  declared: boolean;
  error?: string;
}

export interface Provisioning {
  addAccount(a: {
    id: string;
    name?: string;
  }): Promise<{ account: Account; queue?: QueueDeclaration }>;
  listAccounts(): Promise<Account[]>;
  /**
   * Enabling also declares the account's queue when a RabbitMQ connection was given (the
   * maintainer removes a deactivated account's queue once it is drained, and the frontend
   * would answer 503 until its next pass created it again).
   */
  setAccountActive(
    id: string,
    active: boolean,
  ): Promise<Account & { queue?: QueueDeclaration | undefined }>;
  addGateway(g: { sourceKey: string; accountId: string; token?: string }): Promise<{
    gateway: Gateway;
    token: string;
  }>;
  listGateways(): Promise<Gateway[]>;
  getGateway(sourceKey: string): Promise<Gateway>;
  setGatewayEnabled(sourceKey: string, enabled: boolean): Promise<Gateway>;
  /** New token; the old one stays valid for graceMs (0: revoked at once). */
  rotateToken(sourceKey: string, graceMs?: number): Promise<{ gateway: Gateway; token: string }>;
  /**
   * Delete a gateway (a mistake, or one gone for good): sync-cache drops it from Redis at
   * once. Refused while alert rules name it. Its stored readings stay.
   */
  removeGateway(sourceKey: string): Promise<void>;
  /**
   * Delete an account: refused while it has gateways or alert rules. Its queue is the
   * maintainer's: drained of what it holds, then removed (a trigger remembers the removal,
   * so a queue no pass had registered yet is found too). Its stored readings stay.
   */
  removeAccount(id: string): Promise<void>;
}

const ACCOUNT_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const SOURCE_KEY_RE = /^[A-Za-z0-9][A-Za-z0-9:._-]{0,63}$/;
export const DEFAULT_ROTATION_GRACE_MS = 24 * 3_600_000;

export function checkAccountId(id: string): void {
  if (!ACCOUNT_ID_RE.test(id)) {
    throw new IngestError(
      'VALIDATION',
      `invalid account id "${id}": 1-64 characters, letters, digits, "_", "." or "-", starting with a letter or digit`,
    );
  }
}

export function checkSourceKey(key: string): void {
  if (!SOURCE_KEY_RE.test(key)) {
    throw new IngestError(
      'VALIDATION',
      `invalid source key "${key}": 1-64 characters, letters, digits, ":", "_", "." or "-" (e.g. BC:6A:29:D0:F5:C8)`,
    );
  }
}

interface AccountRow {
  id: string;
  name: string;
  active: boolean;
  gateways: number;
  created_at: Date;
}

interface GatewayRow {
  source_key: string;
  account_id: string;
  account_active: boolean;
  enabled: boolean;
  token_hint: string;
  old_token_hint: string | null;
  old_token_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const ACCOUNT_SELECT = `SELECT a.id, a.name, a.active, a.created_at,
  (SELECT count(*) FROM gateways g WHERE g.account_id = a.id) AS gateways FROM accounts a`;

const GATEWAY_SELECT = `SELECT g.source_key, g.account_id, a.active AS account_active, g.enabled,
  g.token_hint, g.old_token_hint, g.old_token_expires_at, g.created_at, g.updated_at
  FROM gateways g JOIN accounts a ON a.id = g.account_id`;

function toAccount(r: AccountRow): Account {
  return {
    id: r.id,
    name: r.name,
    active: r.active,
    gateways: Number(r.gateways),
    createdAt: r.created_at.toISOString(),
  };
}

function toGateway(r: GatewayRow): Gateway {
  const oldValid = r.old_token_expires_at !== null && r.old_token_expires_at.getTime() > Date.now();
  return {
    sourceKey: r.source_key,
    accountId: r.account_id,
    accountActive: r.account_active,
    enabled: r.enabled,
    token: maskToken(r.token_hint),
    oldToken: oldValid ? maskToken(r.old_token_hint) : null,
    oldTokenExpiresAt: oldValid ? r.old_token_expires_at!.toISOString() : null,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

export function createProvisioning(deps: {
  pool: pg.Pool;
  config: Pick<Config, 'queuePrefix' | 'queueType'>;
  /** When given, addAccount declares the account's durable queue (until the maintainer does). */
  amqp?: AmqpConnection;
}): Provisioning {
  const { pool, config } = deps;

  async function q<R extends pg.QueryResultRow>(text: string, values: unknown[] = []) {
    try {
      return await pool.query<R>(text, values);
    } catch (err) {
      throw provisioningError(err);
    }
  }

  async function account(id: string): Promise<Account> {
    const r = await q<AccountRow>(`${ACCOUNT_SELECT} WHERE a.id = $1`, [id]);
    if (!r.rows[0]) throw new IngestError('NOT_FOUND', `unknown account "${id}"`);
    return toAccount(r.rows[0]);
  }

  async function getGateway(sourceKey: string): Promise<Gateway> {
    const r = await q<GatewayRow>(`${GATEWAY_SELECT} WHERE g.source_key = $1`, [sourceKey]);
    if (!r.rows[0]) throw new IngestError('NOT_FOUND', `unknown gateway "${sourceKey}"`);
    return toGateway(r.rows[0]);
  }

  async function declareQueue(id: string): Promise<QueueDeclaration> {
    const name = accountQueueName(config, id);
    if (!deps.amqp) return { name, declared: false, error: 'no RabbitMQ connection' };
    try {
      await deps.amqp.ready(3_000);
      const ch = await deps.amqp.createChannel();
      try {
        await assertAccountQueue(ch, name, config.queueType);
      } finally {
        await ch.close().catch(() => undefined);
      }
      return { name, declared: true };
    } catch (err) {
      return { name, declared: false, error: errorMessage(err) };
    }
  }

  return {
    async addAccount({ id, name }) {
      checkAccountId(id);
      try {
        await pool.query('INSERT INTO accounts (id, name) VALUES ($1, $2)', [id, name ?? '']);
      } catch (err) {
        if (isUniqueViolation(err))
          throw new IngestError('CONFLICT', `account "${id}" already exists`);
        throw provisioningError(err);
      }
      const out: { account: Account; queue?: QueueDeclaration } = { account: await account(id) };
      if (deps.amqp) out.queue = await declareQueue(id);
      return out;
    },

    async listAccounts() {
      return (await q<AccountRow>(`${ACCOUNT_SELECT} ORDER BY a.id`)).rows.map(toAccount);
    },

    async setAccountActive(id, active) {
      checkAccountId(id);
      const r = await q(
        'UPDATE accounts SET active = $2, updated_at = now() WHERE id = $1 RETURNING id',
        [id, active],
      );
      if (!r.rowCount) throw new IngestError('NOT_FOUND', `unknown account "${id}"`);
      const a = await account(id);
      return active && deps.amqp ? { ...a, queue: await declareQueue(id) } : a;
    },

    async addGateway({ sourceKey, accountId, token }) {
      checkSourceKey(sourceKey);
      checkAccountId(accountId);
      if (token !== undefined) checkTokenFormat(token);
      const secret = token ?? generateToken();
      try {
        await pool.query(
          `INSERT INTO gateways (source_key, account_id, token_hash, token_hint)
           VALUES ($1, $2, $3, $4)`,
          [sourceKey, accountId, hashToken(secret), tokenHint(secret)],
        );
      } catch (err) {
        if (isUniqueViolation(err))
          throw new IngestError('CONFLICT', `gateway "${sourceKey}" already exists`);
        if (isForeignKeyViolation(err))
          throw new IngestError(
            'NOT_FOUND',
            `unknown account "${accountId}" (create it with: ingest accounts add ${accountId})`,
          );
        throw provisioningError(err);
      }
      return { gateway: await getGateway(sourceKey), token: secret };
    },

    async listGateways() {
      return (
        await q<GatewayRow>(`${GATEWAY_SELECT} ORDER BY g.account_id, g.source_key`)
      ).rows.map(toGateway);
    },

    getGateway,

    async setGatewayEnabled(sourceKey, enabled) {
      const r = await q(
        'UPDATE gateways SET enabled = $2, updated_at = now() WHERE source_key = $1 RETURNING 1',
        [sourceKey, enabled],
      );
      if (!r.rowCount) throw new IngestError('NOT_FOUND', `unknown gateway "${sourceKey}"`);
      return getGateway(sourceKey);
    },

    async rotateToken(sourceKey, graceMs = DEFAULT_ROTATION_GRACE_MS) {
      const secret = generateToken();
      const r = await q(
        `UPDATE gateways SET
           old_token_hash = CASE WHEN $4::bigint > 0 THEN token_hash END,
           old_token_hint = CASE WHEN $4::bigint > 0 THEN token_hint END,
           old_token_expires_at = CASE WHEN $4::bigint > 0
             THEN now() + make_interval(secs => $4::bigint / 1000.0) END,
           token_hash = $2, token_hint = $3, updated_at = now()
         WHERE source_key = $1 RETURNING 1`,
        [sourceKey, hashToken(secret), tokenHint(secret), Math.max(0, Math.round(graceMs))],
      );
      if (!r.rowCount) throw new IngestError('NOT_FOUND', `unknown gateway "${sourceKey}"`);
      return { gateway: await getGateway(sourceKey), token: secret };
    },

    async removeGateway(sourceKey) {
      const r = await q<{ removed: boolean; rules: string | null }>(
        `WITH rules AS (SELECT string_agg('#' || id, ' ' ORDER BY id) AS ids
                          FROM alert_rules WHERE source_key = $1),
              gone AS (DELETE FROM gateways g
                        WHERE g.source_key = $1 AND (SELECT ids FROM rules) IS NULL
                        RETURNING 1)
         SELECT EXISTS (SELECT 1 FROM gone) AS removed, (SELECT ids FROM rules) AS rules`,
        [sourceKey],
      );
      const row = r.rows[0]!;
      if (row.removed) return;
      if (row.rules)
        throw new IngestError(
          'CONFLICT',
          `alert rules ${row.rules} name gateway "${sourceKey}": remove them first (ingest alerts rules remove <id>)`,
        );
      throw new IngestError('NOT_FOUND', `unknown gateway "${sourceKey}"`);
    },

    async removeAccount(id) {
      checkAccountId(id);
      const r = await q<{ removed: boolean; gateways: number; rules: number; present: boolean }>(
        `WITH g AS (SELECT count(*)::int AS n FROM gateways WHERE account_id = $1),
              ru AS (SELECT count(*)::int AS n FROM alert_rules WHERE account_id = $1),
              gone AS (DELETE FROM accounts a
                        WHERE a.id = $1 AND (SELECT n FROM g) = 0 AND (SELECT n FROM ru) = 0
                        RETURNING 1)
         SELECT EXISTS (SELECT 1 FROM gone) AS removed, (SELECT n FROM g) AS gateways,
                (SELECT n FROM ru) AS rules, EXISTS (SELECT 1 FROM accounts WHERE id = $1) AS present`,
        [id],
      );
      const row = r.rows[0]!;
      if (row.removed) return;
      if (!row.present) throw new IngestError('NOT_FOUND', `unknown account "${id}"`);
      const what = [
        row.gateways ? `${row.gateways} gateway(s) (ingest gateways remove <key>)` : '',
        row.rules ? `${row.rules} alert rule(s) (ingest alerts rules remove <id>)` : '',
      ].filter(Boolean);
      throw new IngestError(
        'CONFLICT',
        `account "${id}" still has ${what.join(' and ')}: remove them first`,
      );
    },
  };
}
