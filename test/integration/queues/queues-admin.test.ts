/** `ingest queues` and `ingest dispatcher` against a real dispatcher: use-cases and the CLI itself. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  setDispatcherRunning,
  setQueuePaused,
  dispatcherStatus,
} from '../../../src/admin/queues-actions.js';
import { createQueuesSampler, selectRows } from '../../../src/admin/queues-status.js';
import { silentLogger } from '../../../src/core/logger.js';
import { startDispatcherServer, type DispatcherServer } from '../../../src/dispatcher/server.js';
import { createPostgresRegistry } from '../../../src/registry/postgres-registry.js';
import type { QueueRegistry } from '../../../src/registry/registry.js';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';

const run = promisify(execFile);
let env: TestEnv;
let registry: QueueRegistry;
let open: DispatcherServer;
let guarded: DispatcherServer;

async function ingest(args: string[], extraEnv: Record<string, string> = {}) {
  try {
    const r = await run('node', ['bin/ingest', ...args], {
      env: { ...process.env, INGEST_LOG_LEVEL: 'silent', INGEST_ADMIN_TOKEN: '', ...extraEnv },
      timeout: 20_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  env = await createTestEnv();
  registry = createPostgresRegistry({ url: env.config.pgUrl, poolSize: 4 });
  await registry.upsertFromAccounts(['D0000591', 'D0000592', 'X1']);
  await registry.updateCounts([
    { id: 'D0000591', ready: 40, unacked: 2 },
    { id: 'D0000592', ready: 0, unacked: 0 },
    { id: 'X1', ready: 7, unacked: 0 },
  ]);
  open = await startDispatcherServer({
    config: env.with({ dispatcherPort: 0 }),
    logger: silentLogger(),
    registry,
  });
  guarded = await startDispatcherServer({
    config: env.with({ dispatcherPort: 0, adminToken: 'right' }),
    logger: silentLogger(),
    registry,
  });
});

afterAll(async () => {
  await open?.close();
  await guarded?.close();
  await registry?.close();
  await env?.cleanup();
});

const cfg = (url: string, adminToken?: string) =>
  ({
    dispatcherUrl: url,
    adminToken,
    managementUrl: 'http://127.0.0.1:9',
    amqpUrl: env.config.amqpUrl,
    queuePrefix: env.config.queuePrefix,
  }) as const;

describe('queue status use-case', () => {
  it('rows with counts, state, consumer and lease age; sort and filter', async () => {
    const lease = (await registry.claimNext({
      consumer: 'w1',
      strategy: 'fifo',
      leaseMs: 60_000,
    }))!;
    const sampler = createQueuesSampler({ config: cfg(open.url) });
    try {
      const snap = await sampler.sample();
      expect(snap.dispatcher.state).toBe('running');
      expect(snap.rates.source).toBe('none');
      expect(snap.rates.note).toMatch(/rabbitmq_management/);
      const busy = snap.rows.find((r) => r.id === lease.queue)!;
      expect(busy).toMatchObject({ state: 'busy', consumer: 'w1', countsFrom: 'registry' });
      expect(busy.leaseAgeMs).toBeGreaterThanOrEqual(0);
      const d591 = snap.rows.find((r) => r.id === 'D0000591')!;
      expect(d591).toMatchObject({ ready: 40, unacked: 2, total: 42, incomingPerSec: undefined });
      expect(selectRows(snap.rows, { sort: 'depth' }).map((r) => r.id)).toEqual([
        'D0000591',
        'X1',
        'D0000592',
      ]);
      expect(selectRows(snap.rows, { sort: 'name', filter: 'd0000' }).map((r) => r.id)).toEqual([
        'D0000591',
        'D0000592',
      ]);
    } finally {
      sampler.close();
      await registry.release(lease.queue, lease.lease);
    }
  });
});

describe('pause, unpause, stop, start', () => {
  it('pause/unpause a queue and report its state; unknown ids are named', async () => {
    expect(await setQueuePaused(cfg(open.url), 'X1', 'pause')).toEqual({
      id: 'X1',
      state: 'paused',
    });
    expect(await setQueuePaused(cfg(open.url), 'X1', 'unpause')).toEqual({
      id: 'X1',
      state: 'idle',
    });
    await expect(setQueuePaused(cfg(open.url), 'NOPE', 'pause')).rejects.toThrow(
      /unknown queue "NOPE"/,
    );
  });

  it('a refused admin token says so and how to pass one', async () => {
    await expect(setQueuePaused(cfg(guarded.url, 'wrong'), 'X1', 'pause')).rejects.toThrow(
      /refused pause X1: admin token required.*--admin-token/,
    );
    expect((await setQueuePaused(cfg(guarded.url, 'right'), 'X1', 'pause')).state).toBe('paused');
    await setQueuePaused(cfg(guarded.url, 'right'), 'X1', 'unpause');
  });

  it('stop and start the dispatcher', async () => {
    expect((await setDispatcherRunning(cfg(open.url), 'stop')).state).toBe('stopped');
    // The flag is shared: the other replica is stopped too.
    expect((await dispatcherStatus(cfg(guarded.url))).status.dispatcher.state).toBe('stopped');
    expect((await setDispatcherRunning(cfg(open.url), 'start')).state).toBe('running');
  });
});

describe('the CLI (bin/ingest, built)', () => {
  it('ingest queues: table, --json, --sort/--filter', async () => {
    const table = await ingest([
      'queues',
      '--dispatcher',
      open.url,
      '--management-url',
      'http://127.0.0.1:9',
    ]);
    expect(table.code).toBe(0);
    for (const h of [
      'name',
      'state',
      'ready',
      'unacked',
      'total',
      'incoming/s',
      'deliver/s',
      'ack/s',
      'consumer',
      'lease age',
    ])
      expect(table.stdout).toContain(h);
    expect(table.stdout).toMatch(/D0000591.*idle.*40.*2.*42/);
    expect(table.stderr).toMatch(/management API/);
    const json = await ingest([
      'queues',
      '--json',
      '--sort',
      'name',
      '--filter',
      'D0000',
      '--dispatcher',
      open.url,
      '--management-url',
      'http://127.0.0.1:9',
    ]);
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as Array<{ id: string; total: number }>;
    expect(rows.map((r) => r.id)).toEqual(['D0000591', 'D0000592']);
    const bad = await ingest(['queues', '--sort', 'size', '--dispatcher', open.url]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--sort must be one of depth, name, state/);
  });

  it('ingest queues pause|unpause and ingest dispatcher stop|start|status', async () => {
    const p = await ingest(['queues', 'pause', 'D0000592', '--dispatcher', open.url]);
    expect(p).toMatchObject({ code: 0, stdout: 'queue D0000592: paused\n' });
    const u = await ingest(['queues', 'unpause', 'D0000592', '--dispatcher', open.url]);
    expect(u.stdout).toBe('queue D0000592: empty\n');
    const unknown = await ingest(['queues', 'pause', 'NOPE', '--dispatcher', open.url]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^ingest: unknown queue "NOPE"/);
    const refused = await ingest(['dispatcher', 'stop', '--dispatcher', guarded.url], {
      INGEST_ADMIN_TOKEN: 'wrong',
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/refused stop/);
    expect((await ingest(['dispatcher', 'stop', '--dispatcher', open.url])).stdout).toMatch(
      /stopped/,
    );
    const st = await ingest(['dispatcher', 'status', '--dispatcher', open.url]);
    expect(st.stdout).toMatch(/state: +stopped/);
    expect(st.stdout).toMatch(/maintainer: NOT alive \(no heartbeat\)/);
    expect((await ingest(['dispatcher', 'start', '--dispatcher', open.url])).stdout).toMatch(
      /running/,
    );
    const json = await ingest(['dispatcher', 'status', '--json', '--dispatcher', open.url]);
    expect(JSON.parse(json.stdout)).toMatchObject({ dispatcher: { state: 'running' } });
  });

  it('an unreachable dispatcher: non-zero exit and the URL it tried', async () => {
    const r = await ingest(['dispatcher', 'status', '--dispatcher', 'http://127.0.0.1:9']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/dispatcher unreachable at http:\/\/127\.0\.0\.1:9/);
  });
});
