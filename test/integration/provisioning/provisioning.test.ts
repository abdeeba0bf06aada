/** Provisioning against a real PostgreSQL (and RabbitMQ for the account queue). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createProvisioning, type Provisioning } from '../../../src/provisioning/provisioning.js';
import { hashToken } from '../../../src/provisioning/tokens.js';
import {
  createAmqpConnection,
  type AmqpConnection,
} from '../../../src/adapters/rabbitmq/connection.js';
import {
  createPgPool,
  dropDatabase,
  ensureDatabase,
  withDatabase,
} from '../../../src/adapters/postgres/pool.js';
import { isIngestError } from '../../../src/core/errors.js';
import { silentLogger } from '../../../src/core/logger.js';
import { createTestEnv, PG_BASE, type TestEnv } from '../../helpers/env.js';

let env: TestEnv;
let prov: Provisioning;
let amqp: AmqpConnection;

async function rejectsWith(p: Promise<unknown>, code: string, msg?: RegExp): Promise<void> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isIngestError(err), `expected IngestError ${code}, got ${String(err)}`).toBe(true);
  if (!isIngestError(err)) return;
  expect(err.code).toBe(code);
  if (msg) expect(err.message).toMatch(msg);
}

beforeAll(async () => {
  env = await createTestEnv({ queueType: 'classic' });
  amqp = createAmqpConnection({ url: env.config.amqpUrl, logger: silentLogger() });
  prov = createProvisioning({ pool: env.pool, config: env.config, amqp });
});

afterAll(async () => {
  await amqp?.close();
  await env?.cleanup();
});

describe('accounts', () => {
  it('adds an account, declares its durable queue, lists it', async () => {
    const queue = env.queueName('D0000591');
    const out = await prov.addAccount({ id: 'D0000591', name: 'Plant 591' });
    expect(out.account).toMatchObject({
      id: 'D0000591',
      name: 'Plant 591',
      active: true,
      gateways: 0,
    });
    expect(out.queue).toEqual({ name: queue, declared: true });
    const ch = await amqp.createChannel();
    const q = await ch.checkQueue(queue);
    expect(q.queue).toBe(queue);
    await ch.close();
    expect((await prov.listAccounts()).map((a) => a.id)).toContain('D0000591');
  });

  it('refuses duplicates and bad ids, 404s unknown ones', async () => {
    await rejectsWith(prov.addAccount({ id: 'D0000591' }), 'CONFLICT', /already exists/);
    await rejectsWith(prov.addAccount({ id: 'bad id' }), 'VALIDATION', /invalid account id/);
    await rejectsWith(prov.addAccount({ id: '' }), 'VALIDATION');
    await rejectsWith(prov.setAccountActive('NOPE', false), 'NOT_FOUND', /unknown account/);
  });

  it('disables and enables an account; enabling declares its queue again', async () => {
    const queue = env.queueName('D0000591');
    const off = await prov.setAccountActive('D0000591', false);
    expect(off.active).toBe(false);
    expect(off.queue).toBeUndefined();
    // The maintainer removes a deactivated account's queue once it is drained.
    const ch = await amqp.createChannel();
    await ch.deleteQueue(queue);
    const on = await prov.setAccountActive('D0000591', true);
    expect(on.active).toBe(true);
    expect(on.queue).toEqual({ name: queue, declared: true });
    expect((await ch.checkQueue(queue)).queue).toBe(queue);
    await ch.close();
  });

  it('creates the account even when RabbitMQ is unreachable, and says the queue is pending', async () => {
    const dead = createAmqpConnection({
      url: 'amqp://guest:guest@127.0.0.1:1',
      logger: silentLogger(),
    });
    try {
      const p = createProvisioning({ pool: env.pool, config: env.config, amqp: dead });
      const out = await p.addAccount({ id: 'NOQUEUE' });
      expect(out.account.id).toBe('NOQUEUE');
      expect(out.queue?.declared).toBe(false);
      expect(out.queue?.error).toBeTruthy();
    } finally {
      await dead.close();
    }
  });
});

describe('gateways', () => {
  it('adds a gateway with a generated strong token, stored only as a hash', async () => {
    const { token, gateway } = await prov.addGateway({
      sourceKey: 'BC:6A:29:D0:F5:C8',
      accountId: 'D0000591',
    });
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(gateway).toMatchObject({
      sourceKey: 'BC:6A:29:D0:F5:C8',
      accountId: 'D0000591',
      enabled: true,
    });
    expect(gateway.token).toBe(`${token.slice(0, 4)}${'*'.repeat(12)}`);
    const row = await env.pool.query('SELECT * FROM gateways WHERE source_key = $1', [
      'BC:6A:29:D0:F5:C8',
    ]);
    expect(row.rows[0].token_hash).toBe(hashToken(token));
    expect(JSON.stringify(row.rows[0])).not.toContain(token);
  });

  it('accepts a given token; refuses weak tokens, duplicates, unknown accounts', async () => {
    const { token } = await prov.addGateway({
      sourceKey: 'AA:AA',
      accountId: 'D0000591',
      token: 'x'.repeat(20),
    });
    expect(token).toBe('x'.repeat(20));
    await rejectsWith(
      prov.addGateway({ sourceKey: 'AA:AB', accountId: 'D0000591', token: 'short' }),
      'VALIDATION',
    );
    await rejectsWith(
      prov.addGateway({ sourceKey: 'AA:AA', accountId: 'D0000591' }),
      'CONFLICT',
      /already exists/,
    );
    await rejectsWith(
      prov.addGateway({ sourceKey: 'AA:AC', accountId: 'NOPE' }),
      'NOT_FOUND',
      /unknown account/,
    );
    await rejectsWith(
      prov.addGateway({ sourceKey: 'bad key!', accountId: 'D0000591' }),
      'VALIDATION',
    );
  });

  it('lists, shows, disables, enables', async () => {
    expect((await prov.listGateways()).map((g) => g.sourceKey)).toEqual([
      'AA:AA',
      'BC:6A:29:D0:F5:C8',
    ]);
    expect((await prov.setGatewayEnabled('AA:AA', false)).enabled).toBe(false);
    expect((await prov.getGateway('AA:AA')).enabled).toBe(false);
    expect((await prov.setGatewayEnabled('AA:AA', true)).enabled).toBe(true);
    await rejectsWith(prov.setGatewayEnabled('NO:PE', true), 'NOT_FOUND', /unknown gateway/);
    await rejectsWith(prov.getGateway('NO:PE'), 'NOT_FOUND');
  });

  it('rotates a token keeping the old one for the grace period, or revoking it', async () => {
    const before = await env.pool.query('SELECT token_hash FROM gateways WHERE source_key = $1', [
      'AA:AA',
    ]);
    const { token, gateway } = await prov.rotateToken('AA:AA', 3_600_000);
    expect(token).not.toBe('x'.repeat(20));
    expect(gateway.oldToken).toBe(`xxxx${'*'.repeat(12)}`);
    const exp = Date.parse(gateway.oldTokenExpiresAt!);
    expect(exp).toBeGreaterThan(Date.now() + 3_500_000);
    expect(exp).toBeLessThan(Date.now() + 3_700_000);
    const row = await env.pool.query('SELECT * FROM gateways WHERE source_key = $1', ['AA:AA']);
    expect(row.rows[0].old_token_hash).toBe(before.rows[0].token_hash);
    expect(row.rows[0].token_hash).toBe(hashToken(token));
    const revoked = await prov.rotateToken('AA:AA', 0);
    expect(revoked.gateway.oldToken).toBeNull();
    await rejectsWith(prov.rotateToken('NO:PE'), 'NOT_FOUND');
  });
});

describe('remove', () => {
  it('a gateway: refused while an alert rule names it, then deleted (readings stay)', async () => {
    env.queueName('RM1'); // its queue (declared by addAccount) goes with the test's cleanup
    await prov.addAccount({ id: 'RM1' });
    await prov.addGateway({ sourceKey: 'RM:01', accountId: 'RM1' });
    await env.pool.query(`INSERT INTO alert_endpoints (name, url) VALUES ('rm-ep', 'http://x/')`);
    const rule = await env.pool.query<{ id: number }>(
      `INSERT INTO alert_rules (account_id, source_key, param, above, endpoint)
       VALUES ('RM1', 'RM:01', 402, 1, 'rm-ep') RETURNING id`,
    );
    await env.pool.query(
      `INSERT INTO readings (source_key, device, param, ts, value) VALUES ('RM:01', '1', 402, now(), 1)`,
    );
    await rejectsWith(
      prov.removeGateway('RM:01'),
      'CONFLICT',
      new RegExp(`alert rules #${rule.rows[0]!.id} name gateway "RM:01": remove them first`),
    );
    expect((await prov.getGateway('RM:01')).sourceKey).toBe('RM:01');
    await env.pool.query('DELETE FROM alert_rules WHERE id = $1', [rule.rows[0]!.id]);
    await prov.removeGateway('RM:01');
    await rejectsWith(prov.getGateway('RM:01'), 'NOT_FOUND');
    await rejectsWith(prov.removeGateway('RM:01'), 'NOT_FOUND', /unknown gateway "RM:01"/);
    const kept = await env.pool.query("SELECT 1 FROM readings WHERE source_key = 'RM:01'");
    expect(kept.rowCount).toBe(1);
  });

  it('an account: refused while it has gateways or rules, then deleted', async () => {
    await prov.addGateway({ sourceKey: 'RM:02', accountId: 'RM1' });
    await env.pool.query(
      `INSERT INTO alert_rules (account_id, param, above, endpoint) VALUES ('RM1', 402, 1, 'rm-ep')`,
    );
    await rejectsWith(
      prov.removeAccount('RM1'),
      'CONFLICT',
      /still has 1 gateway\(s\) .* and 1 alert rule\(s\) .*: remove them first/,
    );
    // The rule is the account's (no gateway named): the gateway goes, the account still may not.
    await prov.removeGateway('RM:02');
    await rejectsWith(
      prov.removeAccount('RM1'),
      'CONFLICT',
      /^account "RM1" still has 1 alert rule\(s\) \(ingest alerts rules remove <id>\): remove them first$/,
    );
    await env.pool.query("DELETE FROM alert_rules WHERE account_id = 'RM1'");
    await prov.removeAccount('RM1');
    expect((await prov.listAccounts()).map((a) => a.id)).not.toContain('RM1');
    await rejectsWith(prov.removeAccount('RM1'), 'NOT_FOUND', /unknown account "RM1"/);
  });
});

it('says "run ingest db migrate" on an unmigrated database', async () => {
  const url = withDatabase(PG_BASE, `ingest_test_${env.id}_bare`);
  await ensureDatabase(url);
  const pool: pg.Pool = createPgPool(url, { max: 1 });
  try {
    const p = createProvisioning({ pool, config: env.config });
    // A setup step not taken, not an outage: CONFIG_INVALID (the CLI exits 1).
    await rejectsWith(
      p.listAccounts(),
      'CONFIG_INVALID',
      /tables missing in this database: run `ingest db migrate`/,
    );
    await rejectsWith(p.addAccount({ id: 'X' }), 'CONFIG_INVALID', /ingest db migrate/);
  } finally {
    await pool.end();
    await dropDatabase(url);
  }
});
