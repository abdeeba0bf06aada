/** Alert endpoints, rules and delivery records in PostgreSQL: one query per function. */
import {
  isForeignKeyViolation,
  isUniqueViolation,
  pgConstraint,
} from '../adapters/postgres/pg-errors.js';
import type pg from 'pg';
import { IngestError } from '../core/errors.js';

type Queryable = Pick<pg.Pool, 'query'>;

export interface AlertEndpoint {
  name: string;
  url: string;
  secret: string | null;
  createdAt: string;
}

export interface AlertRule {
  id: number;
  account: string;
  gateway: string | null;
  device: string | null;
  param: number;
  above: number | null;
  below: number | null;
  endpoint: string;
  createdAt: string;
}

export interface NewRule {
  account: string;
  gateway?: string | undefined;
  device?: string | undefined;
  param: number;
  above?: number | undefined;
  below?: number | undefined;
  endpoint: string;
}

export interface DeliveryRecord {
  id: number;
  idempotencyKey: string;
  endpoint: string;
  attempt: number;
  outcome: 'delivered' | 'failed' | 'dead';
  httpStatus: number | null;
  error: string | null;
  durationMs: number | null;
  at: string;
}

/** A timestamptz column as ISO 8601 in UTC with milliseconds, as the rest of the CLI prints times. */
function isoUtc(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/** The same check for a new endpoint and a changed URL. */
function checkEndpointUrl(url: string): void {
  try {
    new URL(url);
  } catch {
    throw new IngestError('VALIDATION', `not a URL: ${url}`);
  }
  if (!/^https?:\/\//.test(url))
    throw new IngestError('VALIDATION', `endpoint URL must be http:// or https://`);
}

export async function addEndpoint(
  db: Queryable,
  e: { name: string; url: string; secret?: string | undefined },
): Promise<void> {
  checkEndpointUrl(e.url);
  try {
    await db.query('INSERT INTO alert_endpoints (name, url, secret) VALUES ($1, $2, $3)', [
      e.name,
      e.url,
      e.secret ?? null,
    ]);
  } catch (err) {
    if (isUniqueViolation(err))
      throw new IngestError('CONFLICT', `endpoint "${e.name}" already exists`);
    throw err;
  }
}

export async function listEndpoints(db: Queryable): Promise<AlertEndpoint[]> {
  const res = await db.query<{ name: string; url: string; secret: string | null; c: string }>(
    `SELECT name, url, secret, ${isoUtc('created_at')} AS c
       FROM alert_endpoints ORDER BY name`,
  );
  return res.rows.map((r) => ({ name: r.name, url: r.url, secret: r.secret, createdAt: r.c }));
}

export interface EndpointChange {
  url?: string | undefined;
  /** A new secret; null removes it; undefined keeps it. */
  secret?: string | null | undefined;
}

/**
 * Change an endpoint's URL and/or secret in place: the rules that use it keep
 * it. The statement trigger bumps the alert config version (migration 003), so
 * running notifiers sign and POST with the new values within a version check.
 */
export async function updateEndpoint(
  db: Queryable,
  name: string,
  change: EndpointChange,
): Promise<AlertEndpoint> {
  if (change.url === undefined && change.secret === undefined)
    throw new IngestError('VALIDATION', 'nothing to change: give --url, --secret or --no-secret');
  if (change.url !== undefined) checkEndpointUrl(change.url);
  if (change.secret === '')
    throw new IngestError(
      'VALIDATION',
      'an empty secret signs nothing: remove the secret with --no-secret',
    );
  const res = await db.query<{ name: string; url: string; secret: string | null; c: string }>(
    `UPDATE alert_endpoints
        SET url = COALESCE($2::text, url),
            secret = CASE WHEN $3::boolean THEN $4::text ELSE secret END
      WHERE name = $1
      RETURNING name, url, secret, ${isoUtc('created_at')} AS c`,
    [name, change.url ?? null, change.secret !== undefined, change.secret ?? null],
  );
  const r = res.rows[0];
  if (!r)
    throw new IngestError(
      'NOT_FOUND',
      `no endpoint "${name}" (ingest alerts endpoints list shows them)`,
    );
  return { name: r.name, url: r.url, secret: r.secret, createdAt: r.c };
}

export async function removeEndpoint(db: Queryable, name: string): Promise<void> {
  try {
    const res = await db.query('DELETE FROM alert_endpoints WHERE name = $1', [name]);
    if (!res.rowCount) throw new IngestError('NOT_FOUND', `no endpoint "${name}"`);
  } catch (err) {
    if (isForeignKeyViolation(err))
      throw new IngestError(
        'CONFLICT',
        `endpoint "${name}" is used by alert rules; remove them first (ingest alerts rules list)`,
      );
    throw err;
  }
}

/** $1..$7 of the statements about a rule: account, gateway, device, param, above, below, endpoint. */
function ruleValues(r: NewRule): unknown[] {
  return [
    r.account,
    r.gateway ?? null,
    r.device ?? null,
    r.param,
    r.above ?? null,
    r.below ?? null,
    r.endpoint,
  ];
}

export async function addRule(db: Queryable, r: NewRule): Promise<AlertRule> {
  if (r.above === undefined && r.below === undefined)
    throw new IngestError('VALIDATION', 'a rule needs --above and/or --below');
  if (r.above !== undefined && r.below !== undefined && r.below > r.above) {
    // Both thresholds: the alert fires outside [below, above]; an inverted band would fire always.
    throw new IngestError('VALIDATION', '--below must not be greater than --above');
  }
  let id: number | undefined;
  try {
    // Inserted only for an existing account (and its own gateway): a typo in
    // either would otherwise be a rule that silently never fires.
    const res = await db.query<{ id: number }>(
      `INSERT INTO alert_rules (account_id, source_key, device, param, above, below, endpoint)
       SELECT a.id, $2::text, $3::text, $4::integer, $5::float8, $6::float8, $7::text
         FROM accounts a
        WHERE a.id = $1
          AND ($2::text IS NULL OR EXISTS (
                SELECT 1 FROM gateways g WHERE g.source_key = $2 AND g.account_id = a.id))
       RETURNING id`,
      ruleValues(r),
    );
    id = res.rows[0]?.id;
  } catch (err) {
    if (isForeignKeyViolation(err))
      throw new IngestError(
        'NOT_FOUND',
        `no endpoint "${r.endpoint}" (add it with: ingest alerts endpoints add ${r.endpoint} --url URL)`,
      );
    if (isUniqueViolation(err) && pgConstraint(err) === SAME_RULE_INDEX)
      throw await sameRuleError(db, r);
    throw err;
  }
  if (id === undefined) throw await ruleTargetError(db, r);
  return (await listRules(db)).find((x) => x.id === Number(id))!;
}

/** The unique index on what a rule watches and whom it notifies (migration 006). */
const SAME_RULE_INDEX = 'alert_rules_same_rule_idx';

/** addRule hit the unique index: name the rule that is already there. */
async function sameRuleError(db: Queryable, r: NewRule): Promise<IngestError> {
  const res = await db.query<{ id: string }>(
    `SELECT id FROM alert_rules
      WHERE account_id = $1
        AND source_key IS NOT DISTINCT FROM $2::text
        AND device IS NOT DISTINCT FROM $3::text
        AND param = $4::integer
        AND above IS NOT DISTINCT FROM $5::float8
        AND below IS NOT DISTINCT FROM $6::float8
        AND endpoint = $7
      ORDER BY id LIMIT 1`,
    ruleValues(r),
  );
  const existing = res.rows[0]?.id;
  return existing === undefined
    ? new IngestError('CONFLICT', 'the same rule exists already')
    : new IngestError('CONFLICT', `the same rule exists already: #${existing}`, {
        details: { rule: Number(existing) },
      });
}

/** Why addRule inserted nothing: the account is unknown, or the gateway is not one of its own. */
async function ruleTargetError(db: Queryable, r: NewRule): Promise<IngestError> {
  const res = await db.query<{ account: string | null; gateway_account: string | null }>(
    `SELECT (SELECT id FROM accounts WHERE id = $1) AS account,
            (SELECT account_id FROM gateways WHERE source_key = $2) AS gateway_account`,
    [r.account, r.gateway ?? null],
  );
  const found = res.rows[0];
  if (!found?.account)
    return new IngestError(
      'NOT_FOUND',
      `unknown account "${r.account}" (ingest accounts list shows them)`,
    );
  if (!found.gateway_account)
    return new IngestError(
      'NOT_FOUND',
      `unknown gateway "${r.gateway}" (ingest gateways list shows them)`,
    );
  return new IngestError(
    'VALIDATION',
    `gateway "${r.gateway}" belongs to account "${found.gateway_account}", not "${r.account}"`,
  );
}

export async function listRules(db: Queryable, account?: string): Promise<AlertRule[]> {
  const res = await db.query<{
    id: number;
    account_id: string;
    source_key: string | null;
    device: string | null;
    param: number;
    above: number | null;
    below: number | null;
    endpoint: string;
    c: string;
  }>(
    `SELECT id, account_id, source_key, device, param, above, below, endpoint,
            ${isoUtc('created_at')} AS c
       FROM alert_rules WHERE ($1::text IS NULL OR account_id = $1) ORDER BY id`,
    [account ?? null],
  );
  return res.rows.map((r) => ({
    id: Number(r.id),
    account: r.account_id,
    gateway: r.source_key,
    device: r.device,
    param: r.param,
    above: r.above,
    below: r.below,
    endpoint: r.endpoint,
    createdAt: r.c,
  }));
}

export async function removeRule(db: Queryable, id: number): Promise<void> {
  const res = await db.query('DELETE FROM alert_rules WHERE id = $1', [id]);
  if (!res.rowCount) throw new IngestError('NOT_FOUND', `no alert rule ${id}`);
}

export async function configVersion(db: Queryable): Promise<number> {
  const res = await db.query<{ version: number }>('SELECT version FROM alert_config_version');
  return Number(res.rows[0]?.version ?? 0);
}

export async function recordDelivery(
  db: Queryable,
  d: Omit<DeliveryRecord, 'id' | 'at'>,
): Promise<void> {
  await db.query(
    `INSERT INTO alert_deliveries
       (idempotency_key, endpoint, attempt, outcome, http_status, error, duration_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [d.idempotencyKey, d.endpoint, d.attempt, d.outcome, d.httpStatus, d.error, d.durationMs],
  );
}

export async function listDeliveries(
  db: Queryable,
  opts: { failed?: boolean; limit?: number; key?: string },
): Promise<DeliveryRecord[]> {
  const res = await db.query<{
    id: number;
    idempotency_key: string;
    endpoint: string;
    attempt: number;
    outcome: DeliveryRecord['outcome'];
    http_status: number | null;
    error: string | null;
    duration_ms: number | null;
    at: string;
  }>(
    `SELECT id, idempotency_key, endpoint, attempt, outcome, http_status, error, duration_ms,
            ${isoUtc('at')} AS at
       FROM alert_deliveries
      WHERE ($1::boolean IS NOT TRUE OR outcome <> 'delivered')
        AND ($3::text IS NULL OR idempotency_key = $3)
      ORDER BY id DESC LIMIT $2`,
    [opts.failed ?? false, opts.limit ?? 50, opts.key ?? null],
  );
  return res.rows.map((r) => ({
    id: Number(r.id),
    idempotencyKey: r.idempotency_key,
    endpoint: r.endpoint,
    attempt: r.attempt,
    outcome: r.outcome,
    httpStatus: r.http_status,
    error: r.error,
    durationMs: r.duration_ms,
    at: r.at,
  }));
}
