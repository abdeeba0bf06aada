/**
 * Alert rules against a real PostgreSQL: a rule must name an existing account
 * (and, with --gateway, one of that account's gateways), through the repository
 * and through `ingest alerts rules ...` run in process; refused rules write nothing.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';
import { addEndpoint, addRule, listRules } from '../../../src/alerts/alerts.repo.js';
import { createProgram } from '../../../src/cli/program.js';

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
async function ingest(args: string): Promise<string> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  try {
    await createProgram()
      .exitOverride()
      .parseAsync(['alerts', 'rules', ...args.split(' '), '--pg-url', env.config.pgUrl], {
        from: 'user',
      });
    return out;
  } finally {
    spy.mockRestore();
  }
}

const rule = { param: 402, above: 1, endpoint: 'ops' };

describe('alert rules', () => {
  it('are added for an existing account and one of its own gateways', async () => {
    const a = await addRule(env.pool, { account: 'ACC1', ...rule });
    expect(a).toMatchObject({ account: 'ACC1', gateway: null, param: 402, above: 1 });
    const g = await addRule(env.pool, { account: 'ACC1', gateway: 'GW:1', device: '7', ...rule });
    expect(g).toMatchObject({ account: 'ACC1', gateway: 'GW:1', device: '7' });
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
