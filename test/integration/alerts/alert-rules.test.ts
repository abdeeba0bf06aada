/**
 * Alert rules against a real PostgreSQL: a rule must name an existing account
 * (and, with --gateway, one of that account's gateways), through the repository
 * and through `ingest alerts rules ...` run in process; refused rules write nothing.
 * The same rule twice is refused (a unique index, migration 006), naming the first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';
import { addEndpoint, addRule, listRules } from '../../../src/alerts/alerts.repo.js';
import { ingestInProcess } from '../../helpers/cli.js';
import * as uniqueRules from '../../../src/adapters/postgres/migrations/006-alert-rules-unique.js';

let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv();
  await addEndpoint(env.pool, { name: 'ops', url: 'http://127.0.0.1:9/x' });
  await env.pool.query("INSERT INTO accounts (id) VALUES ('ACC1'), ('ACC2')");
  await env.pool.query(
    `INSERT INTO gateways (source_key, account_id, token_hash, token_hint)
     VALUES ('GW:1', 'ACC1', 'x', 'x'), ('GW:2', 'ACC2', 'x', 'x')`,
  );
});

afterAll(async () => {
  await env?.cleanup();
});

/** Runs `ingest alerts rules ...` on this file's database; stdout is captured. */
const ingest = (args: string): Promise<string> =>
  ingestInProcess(['alerts', 'rules', ...args.split(' ')], env.config.pgUrl);

const rule = { param: 402, above: 1, endpoint: 'ops' };

describe('alert rules', () => {
  it('are added for an existing account and one of its own gateways', async () => {
    const a = await addRule(env.pool, { account: 'ACC1', ...rule });
    expect(a).toMatchObject({ account: 'ACC1', gateway: null, param: 402, above: 1 });
    const g = await addRule(env.pool, { account: 'ACC1', gateway: 'GW:1', device: '7', ...rule });
    expect(g).toMatchObject({ account: 'ACC1', gateway: 'GW:1', device: '7' });
    // Times as the rest of the CLI prints them: ISO 8601, UTC.
    expect(g.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    await env.pool.query('DELETE FROM alert_rules');
  });

  it('are refused for an unknown account, an unknown gateway or another account’s gateway', async () => {
    await expect(addRule(env.pool, { account: 'NOPE', ...rule })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('unknown account "NOPE"'),
    });
    await expect(
      addRule(env.pool, { account: 'ACC1', gateway: 'GW:9', ...rule }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('unknown gateway "GW:9"'),
    });
    await expect(
      addRule(env.pool, { account: 'ACC1', gateway: 'GW:2', ...rule }),
    ).rejects.toMatchObject({
      code: 'VALIDATION',
      message: 'gateway "GW:2" belongs to account "ACC2", not "ACC1"',
    });
    // An unknown endpoint is still reported as before.
    await expect(
      addRule(env.pool, { account: 'ACC1', param: 402, above: 1, endpoint: 'nope' }),
    ).rejects.toThrow('no endpoint "nope"');
    expect(await listRules(env.pool)).toEqual([]);
  });

  it('ingest alerts rules add refuses an unknown account and writes nothing', async () => {
    await expect(ingest('add --account NOPE --param 402 --above 1 --endpoint ops')).rejects.toThrow(
      'unknown account "NOPE"',
    );
    expect(await listRules(env.pool)).toEqual([]);
    const out = await ingest(
      'add --account ACC2 --gateway GW:2 --param 402 --above 1 --endpoint ops',
    );
    expect(out).toMatch(/^rule \d+ added/);
    expect((await listRules(env.pool)).map((r) => r.account)).toEqual(['ACC2']);
  });

  it('ingest alerts rules remove names its positional id when it is not a number', async () => {
    await expect(ingest('remove abc')).rejects.toThrow(
      'rule id must be a whole number >= 1, got "abc"',
    );
    const [r] = await listRules(env.pool);
    expect(await ingest(`remove ${r!.id}`)).toBe(`rule ${r!.id} removed\n`);
    expect(await listRules(env.pool)).toEqual([]);
  });
});

describe('duplicate alert rules', () => {
  it('the same rule (gateway and device absent in both) is refused, naming the existing one', async () => {
    const first = await addRule(env.pool, { account: 'ACC1', ...rule });
    await expect(addRule(env.pool, { account: 'ACC1', ...rule })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: `the same rule exists already: #${first.id}`,
    });
    const scoped = { account: 'ACC1', gateway: 'GW:1', device: '7', ...rule };
    const second = await addRule(env.pool, scoped);
    await expect(addRule(env.pool, scoped)).rejects.toMatchObject({
      code: 'CONFLICT',
      message: `the same rule exists already: #${second.id}`,
    });
    expect((await listRules(env.pool)).map((r) => r.id)).toEqual([first.id, second.id]);
    await env.pool.query('DELETE FROM alert_rules');
  });

  it('rules that differ in gateway, device, threshold, comparison or endpoint are all kept', async () => {
    await addEndpoint(env.pool, { name: 'pager', url: 'http://127.0.0.1:9/p' });
    const variants = [
      { account: 'ACC1', param: 402, above: 1, endpoint: 'ops' },
      { account: 'ACC1', param: 402, above: 1, endpoint: 'pager' },
      { account: 'ACC1', param: 402, above: 2, endpoint: 'ops' },
      { account: 'ACC1', param: 402, below: 1, endpoint: 'ops' },
      { account: 'ACC1', param: 402, above: 1, below: 0, endpoint: 'ops' },
      { account: 'ACC1', param: 403, above: 1, endpoint: 'ops' },
      { account: 'ACC1', device: '7', param: 402, above: 1, endpoint: 'ops' },
      { account: 'ACC1', gateway: 'GW:1', param: 402, above: 1, endpoint: 'ops' },
      { account: 'ACC2', param: 402, above: 1, endpoint: 'ops' },
    ];
    for (const v of variants) await addRule(env.pool, v);
    expect(await listRules(env.pool)).toHaveLength(variants.length);
    await expect(addRule(env.pool, variants[4]!)).rejects.toMatchObject({ code: 'CONFLICT' });
    await env.pool.query('DELETE FROM alert_rules');
  });

  it('ingest alerts rules add refuses the same rule twice and keeps one', async () => {
    const add = 'add --account ACC1 --param 402 --above 150000 --endpoint ops';
    const out = await ingest(add);
    const id = Number(/^rule (\d+) added/.exec(out)?.[1]);
    await expect(ingest(add)).rejects.toThrow(`the same rule exists already: #${id}`);
    expect((await listRules(env.pool)).map((r) => r.id)).toEqual([id]);
    await env.pool.query('DELETE FROM alert_rules');
  });

  it('migration 006 removes duplicates made before it (the oldest stays) and then refuses them', async () => {
    await env.pool.query('DROP INDEX alert_rules_same_rule_idx');
    const insert = `INSERT INTO alert_rules (account_id, source_key, device, param, above, below, endpoint)
      VALUES ('ACC1', NULL, NULL, 402, 1, NULL, 'ops') RETURNING id`;
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) ids.push(Number((await env.pool.query(insert)).rows[0].id));
    const other = await addRule(env.pool, { account: 'ACC1', device: '7', ...rule });
    await env.pool.query(`BEGIN; ${uniqueRules.sql}; COMMIT;`);
    expect((await listRules(env.pool)).map((r) => r.id)).toEqual([ids[0], other.id]);
    await expect(addRule(env.pool, { account: 'ACC1', ...rule })).rejects.toThrow(
      `the same rule exists already: #${ids[0]}`,
    );
    await env.pool.query('DELETE FROM alert_rules');
  });
});
