/** Clear errors of `ingest up` and `ingest dashboard` before anything starts (the built CLI). */
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INGEST_BIN } from '../../../src/loadtest/ingest-process.js';

let blocker: net.Server;
let port: number;

beforeAll(async () => {
  blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  port = (blocker.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((r) => blocker.close(r));
});

function ingest(args: string[]) {
  return spawnSync(process.execPath, [INGEST_BIN, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 20_000,
    // Never the demo's database: the port check fails before anything is touched.
    env: {
      ...process.env,
      INGEST_PG_URL: 'postgres://postgres@127.0.0.1:5432/ingest_never_created_h4',
    },
  });
}

describe('ingest up / dashboard errors', () => {
  it('names the taken port, its owner, and the flags to pick others', () => {
    const r = ingest([
      'up',
      '--no-dashboard',
      '--frontend-port',
      String(port),
      '--dispatcher-port',
      '1',
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`ingest: port ${port} (frontend) on 127.0.0.1 is already in use`);
    expect(r.stderr).toMatch(new RegExp(`by pid ${process.pid} `));
    expect(r.stderr).toContain('--frontend-port and --dispatcher-port');
    expect(r.stdout).not.toContain('migrating');
  });

  it('refuses to draw the dashboard without a terminal, and says what to use instead', () => {
    const r = ingest(['dashboard']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^ingest: the dashboard needs a terminal .*ingest queues --json/);
  });

  it('documents its flags', () => {
    const up = ingest(['up', '--help']).stdout;
    for (const flag of [
      '--demo',
      '--no-dashboard',
      '--consumers',
      '--demo-rate',
      '--demo-duration',
      '--frontend-port',
      '--dispatcher-port',
      'Examples:',
    ])
      expect(up).toContain(flag);
    const dash = ingest(['dashboard', '--help']).stdout;
    for (const flag of ['--frontend', '--dispatcher', '--interval', 'q quits, p pauses'])
      expect(dash).toContain(flag);
  });
});
