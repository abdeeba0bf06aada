/**
 * Ctrl-C during a load test: the run stops, its sandbox (database, queues,
 * Redis keys) is removed, and the CLI exits 130 with one line saying so.
 * Node's default SIGINT handling would exit mid-run and leave all of it behind.
 * Needs `npm run build` (npm test runs it first).
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAmqpConnection } from '../../src/adapters/rabbitmq/connection.js';
import { silentLogger } from '../../src/core/logger.js';
import { configToEnv, SANDBOX_SETTINGS } from '../../src/loadtest/sandbox.js';
import { INGEST_BIN } from '../../src/loadtest/ingest-process.js';
import { createTestEnv, type TestEnv } from '../helpers/env.js';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => env.cleanup());

interface Exit {
  code: number | null;
  stderr: string;
}

/**
 * Run `ingest args` in a process group of its own, send SIGINT to the group (as a
 * terminal's Ctrl-C does) once stderr shows `when`, and wait for the exit; a run
 * that does not stop within `ms` is killed so a regression cannot outlive the test.
 */
async function interruptWhen(args: string[], when: RegExp, ms = 45_000): Promise<Exit> {
  const child = spawn(process.execPath, [INGEST_BIN, ...args], {
    env: { ...process.env, ...configToEnv(env.config, SANDBOX_SETTINGS) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const pid = child.pid!;
  let stderr = '';
  let sent = false;
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (!sent && when.test(stderr)) {
      sent = true;
      process.kill(-pid, 'SIGINT');
    }
  });
  child.stdout.resume();
  const exited = new Promise<Exit>((resolve) =>
    child.on('exit', (code) => resolve({ code, stderr })),
  );
  const timer = setTimeout(() => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, ms);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

async function queueExists(name: string): Promise<boolean> {
  const conn = createAmqpConnection({ url: env.config.amqpUrl, logger: silentLogger() });
  try {
    await conn.ready();
    const ch = await conn.createChannel();
    try {
      await ch.checkQueue(name);
      return true;
    } catch {
      return false;
    } finally {
      await ch.close().catch(() => undefined);
    }
  } finally {
    await conn.close();
  }
}

describe('interrupting a load test', () => {
  it('pipeline: SIGINT while feeding removes the sandbox and exits 130', async () => {
    const r = await interruptWhen(
      [
        'loadtest',
        'pipeline',
        '--readings',
        '400000',
        '--accounts',
        '5',
        '--per-request',
        '50',
        '--connections',
        '1',
        '--warmup',
        '0',
        '--jit-warmup',
        '0',
        '--ceiling',
        '0',
      ],
      /feeding \d+ requests/,
    );
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/SIGINT: stopping the load test and cleaning up/);
    expect(r.stderr).toMatch(/^ingest: interrupted: stopped early, sandbox removed$/m);
    const where = /sandbox: database (\S+), queues (\S+)\*, Redis keys (\S+)\*/.exec(r.stderr);
    expect(where, r.stderr).not.toBeNull();
    const [, database, queuePrefix, redisPrefix] = where!;
    const db = await env.pool.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    expect(db.rowCount).toBe(0);
    expect(await queueExists(`${queuePrefix}P0000001`)).toBe(false);
    expect(await queueExists(`${queuePrefix}readings.dead`)).toBe(false);
    expect(await env.redis.keys(`${redisPrefix}*`)).toEqual([]);
  }, 60_000);

  it('dispatcher: SIGINT during the HTTP loop exits 130 without its throwaway database', async () => {
    const r = await interruptWhen(
      ['loadtest', 'dispatcher', '--consumers', '2', '--queues', '20', '--duration', '60s'],
      /consumer\(s\): next -> release/,
    );
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/^ingest: interrupted: stopped early, sandbox removed$/m);
    const database = /sandbox: database (\S+),/.exec(r.stderr)?.[1];
    expect(database, r.stderr).toMatch(/^ingest_ltdisp_/);
    const db = await env.pool.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    expect(db.rowCount).toBe(0);
  }, 60_000);
});
