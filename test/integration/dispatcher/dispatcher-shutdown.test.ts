/**
 * Shutdown is bounded and prompt: a dispatcher closed about a second after it
 * started, with keep-alive clients connected (idle and busy), is closed within
 * a couple of seconds, in process and as `node bin/ingest dispatch` under
 * SIGTERM. A grant whose consumer left before the answer is given back at once.
 */
import { spawn } from 'node:child_process';
import { createServer, request as httpRequest, Agent } from 'node:http';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pool } from 'undici';
import { silentLogger } from '../../../src/core/logger.js';
import { isIngestError } from '../../../src/core/errors.js';
import { startDispatcherServer } from '../../../src/dispatcher/server.js';
import { createPostgresRegistry } from '../../../src/registry/postgres-registry.js';
import type { QueueRegistry } from '../../../src/registry/registry.js';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';

const BIN = fileURLToPath(new URL('../../../bin/ingest', import.meta.url));
const BUILT = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));
const BUILT_SERVER = new URL('../../../dist/dispatcher/server.js', import.meta.url).href;
const BUILT_CONFIG = new URL('../../../dist/core/config.js', import.meta.url).href;
const BUILT_LOGGER = new URL('../../../dist/core/logger.js', import.meta.url).href;
const QUEUES = Array.from({ length: 6 }, (_, i) => `S${i}`);

let env: TestEnv;
let registry: QueueRegistry;

beforeAll(async () => {
  env = await createTestEnv();
  registry = createPostgresRegistry({ url: env.config.pgUrl, poolSize: 2 });
  await registry.upsertFromAccounts(QUEUES);
});

afterAll(async () => {
  await registry?.close();
  await env?.cleanup();
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    sock.once('connect', () => {
      sock.destroy();
      resolve(false);
    });
    sock.once('error', () => resolve(true));
  });
}

/**
 * Keep-alive traffic as consumers make it: `busy` loops of next+release on an
 * undici Pool, plus one node:http keep-alive socket left idle after one request.
 * Loops stop at the first refusal or 503 (the server is closing).
 */
async function keepAliveTraffic(url: string, busy: number) {
  const pool = new Pool(url, { connections: busy, keepAliveTimeout: 60_000 });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let cycles = 0;
  let stop = false;
  await new Promise<void>((resolve, reject) => {
    const req = httpRequest(`${url}/health`, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end();
  });
  const loops = Array.from({ length: busy }, async (_, i) => {
    let held: { queue: string; lease: string } | undefined;
    while (!stop) {
      try {
        const res = await pool.request({
          path: '/queue/next',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            consumer: `k${i}`,
            ...(held ? { release: held.queue, lease: held.lease } : {}),
          }),
        });
        const text = await res.body.text();
        if (res.statusCode === 200) {
          const g = JSON.parse(text) as { queue: string; lease: string };
          held = { queue: g.queue, lease: g.lease };
        } else if (res.statusCode === 204) held = undefined;
        else break;
        cycles += 1;
      } catch {
        break;
      }
    }
  });
  return {
    get cycles() {
      return cycles;
    },
    async end() {
      stop = true;
      await Promise.all(loops);
      agent.destroy();
      await pool.destroy();
    },
  };
}

describe('dispatcher shutdown', () => {
  it('closes within 2 s when closed ~1 s after start, with keep-alive clients connected', async () => {
    const server = await startDispatcherServer({
      // Its own registry pool and Redis client: close() must end those too.
      config: env.with({ dispatcherPort: 0, strategy: 'fifo' }),
      logger: silentLogger(),
      sweepMs: 100,
      cacheMs: 100,
    });
    const port = Number(new URL(server.url).port);
    const traffic = await keepAliveTraffic(server.url, 4);
    await delay(1_000);
    expect(traffic.cycles).toBeGreaterThan(10); // the connections were in use when it closed
    const t0 = performance.now();
    await server.close();
    const closeMs = performance.now() - t0;
    expect(closeMs).toBeLessThan(2_000);
    expect(await refused(port)).toBe(true);
    await traffic.end();
    await server.close(); // idempotent
  });

  it('a start aborted before it listens closes what it opened and rejects', async () => {
    const ac = new AbortController();
    const starting = startDispatcherServer({
      config: env.with({ dispatcherPort: await freePort(), strategy: 'fifo' }),
      logger: silentLogger(),
      signal: ac.signal,
    });
    ac.abort();
    const err = await starting.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isIngestError(err, 'DISPATCHER_STOPPED')).toBe(true);
  });

  it('a grant whose consumer left before the answer is given back at once', async () => {
    await registry.expireLeases({ maxAgeMs: 0 }); // what earlier tests' clients still held
    expect((await registry.list()).filter((e) => e.state === 'busy')).toEqual([]);
    const server = await startDispatcherServer({
      config: env.with({ dispatcherPort: 0, strategy: 'fifo', leaseTimeout: '60s' }),
      logger: silentLogger(),
      registry,
      sweepMs: 0,
    });
    const lock = await env.pool.connect();
    try {
      // Hold the claim until the client has given up.
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE queue_registry IN ACCESS EXCLUSIVE MODE');
      const body = JSON.stringify({ consumer: 'impatient' });
      const req = httpRequest(`${server.url}/queue/next`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      });
      req.on('error', () => undefined);
      req.end(body);
      await delay(300);
      req.destroy(); // client timeout
      await delay(100);
      await lock.query('COMMIT');
    } finally {
      lock.release();
    }
    let busy = QUEUES.length;
    const deadline = Date.now() + 3_000;
    while (Date.now() < deadline) {
      busy = (await registry.list()).filter((e) => e.state === 'busy').length;
      if (busy === 0) break;
      await delay(50);
    }
    // The claim went through after the client left (the queue was taken), then was given back.
    const entries = await registry.list();
    expect(busy).toBe(0);
    expect(entries.some((e) => e.lastDeliveredAt !== null)).toBe(true);
    await server.close();
  });

  it.skipIf(!existsSync(BUILT))(
    'a process whose dispatcher is closed right after start exits at once (nothing left holding it)',
    async () => {
      // Closing while Redis is still in its connect/ready check used to leave ioredis's
      // 2 s disconnect timer behind.
      const script = `
        const { startDispatcherServer } = await import(${JSON.stringify(BUILT_SERVER)});
        const { loadConfig } = await import(${JSON.stringify(BUILT_CONFIG)});
        const { silentLogger } = await import(${JSON.stringify(BUILT_LOGGER)});
        const config = loadConfig(JSON.parse(process.env.H5_CONFIG), {});
        const server = await startDispatcherServer({ config, logger: silentLogger() });
        await server.close();
        process.stderr.write('closed\\n');`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        env: {
          ...process.env,
          H5_CONFIG: JSON.stringify({
            pgUrl: env.config.pgUrl,
            redisUrl: env.config.redisUrl,
            redisPrefix: env.config.redisPrefix,
            dispatcherPort: 0,
          }),
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      let closedAt = 0;
      child.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
        if (!closedAt && stderr.includes('closed')) closedAt = performance.now();
      });
      const exit = await Promise.race([
        new Promise<{ code: number | null; at: number }>((resolve) =>
          child.once('exit', (code) => resolve({ code, at: performance.now() })),
        ),
        delay(15_000).then(() => null),
      ]);
      if (!exit) child.kill('SIGKILL');
      expect(exit, stderr).not.toBeNull();
      expect(exit!.code, stderr).toBe(0);
      expect(closedAt).toBeGreaterThan(0);
      expect(exit!.at - closedAt).toBeLessThan(1_000);
    },
    30_000,
  );

  it.skipIf(!existsSync(BUILT))(
    '`ingest dispatch` exits within 3 s of SIGTERM sent ~1 s after start, keep-alive clients connected',
    async () => {
      const port = await freePort();
      const child = spawn(process.execPath, [BIN, 'dispatch', '--port', String(port)], {
        env: {
          ...process.env,
          INGEST_PG_URL: env.config.pgUrl,
          INGEST_REGISTRY_URL: env.config.pgUrl,
          INGEST_REDIS_URL: env.config.redisUrl,
          INGEST_REDIS_PREFIX: env.config.redisPrefix,
          INGEST_HOST: '127.0.0.1',
          INGEST_LOG_LEVEL: 'info',
          INGEST_LOG_FORMAT: 'json',
          INGEST_STRATEGY: 'fifo',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const exited = new Promise<{ code: number | null; signal: string | null; at: number }>(
        (resolve) =>
          child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
      );
      try {
        const started = performance.now();
        const deadline = Date.now() + 15_000;
        while (!stderr.includes('dispatcher listening') && Date.now() < deadline) await delay(20);
        expect(stderr).toContain('dispatcher listening');
        const traffic = await keepAliveTraffic(`http://127.0.0.1:${port}`, 4);
        await delay(Math.max(0, 1_000 - (performance.now() - started)) + 200);
        expect(traffic.cycles).toBeGreaterThan(0);
        const t0 = performance.now();
        child.kill('SIGTERM');
        const result = await Promise.race([exited, delay(3_000).then(() => null)]);
        await traffic.end();
        expect(result, `still running 3 s after SIGTERM; stderr:\n${stderr}`).not.toBeNull();
        expect(result!.code).toBe(0);
        expect(result!.at - t0).toBeLessThan(3_000);
        expect(stderr).toContain('draining');
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    },
    30_000,
  );
});
