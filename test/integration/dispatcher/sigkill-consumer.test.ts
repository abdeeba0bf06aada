/**
 * A consumer process that holds a queue and renews its lease is SIGKILLed: the
 * queue is handed out again within the lease timeout (plus one sweep), not later.
 */
import { spawn } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcherClient } from '../../../src/dispatcher/client.js';
import { startDispatcherServer, type DispatcherServer } from '../../../src/dispatcher/server.js';
import { silentLogger } from '../../../src/core/logger.js';
import { createPostgresRegistry } from '../../../src/registry/postgres-registry.js';
import type { QueueRegistry } from '../../../src/registry/registry.js';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';

const CLIENT = fileURLToPath(new URL('../../../dist/dispatcher/client.js', import.meta.url));
const LEASE_MS = 1_500;

let env: TestEnv;
let registry: QueueRegistry;
let server: DispatcherServer;

beforeAll(async () => {
  env = await createTestEnv();
  registry = createPostgresRegistry({ url: env.config.pgUrl, poolSize: 4 });
  await registry.upsertFromAccounts(['K1']);
  server = await startDispatcherServer({
    config: env.with({ dispatcherPort: 0, leaseTimeout: `${LEASE_MS}ms`, strategy: 'fifo' }),
    logger: silentLogger(),
    registry,
    sweepMs: 250,
  });
});

afterAll(async () => {
  await server?.close();
  await registry?.close();
  await env?.cleanup();
});

describe('a SIGKILLed consumer', () => {
  it('keeps its queue while it renews, and loses it within the lease timeout once killed', async () => {
    // A consumer in its own process: claim, then renew every LEASE/3 until killed.
    const script = `
      const { createDispatcherClient } = await import(${JSON.stringify(CLIENT)});
      const c = createDispatcherClient({ url: ${JSON.stringify(server.url)} });
      const g = await c.next({ consumer: 'doomed' });
      console.log(JSON.stringify(g));
      setInterval(() => c.renew(g.queue, g.lease).catch((e) => console.error(e.message)), ${LEASE_MS / 3});
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const grant = await new Promise<{ queue: string }>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) =>
        resolve(JSON.parse(d.toString()) as { queue: string }),
      );
      child.once('exit', (code) => reject(new Error(`consumer exited early (${code})`)));
    });
    expect(grant.queue).toBe('K1');
    const other = createDispatcherClient({ url: server.url });
    try {
      // Renewed: still held after more than one lease timeout.
      await delay(LEASE_MS * 1.5);
      expect(await other.next({ consumer: 'other' })).toBeNull();
      child.kill('SIGKILL');
      const killedAt = Date.now();
      let again = null;
      while (!again && Date.now() - killedAt < LEASE_MS * 4) {
        await delay(50);
        again = await other.next({ consumer: 'other' });
      }
      const after = Date.now() - killedAt;
      expect(again?.queue).toBe('K1');
      expect(after).toBeLessThan(LEASE_MS + 1_000); // lease timeout + sweep + slack
    } finally {
      other.close();
      child.kill('SIGKILL');
    }
  });
});
