import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/core/config.js';
import type { PipelineSnapshot } from '../../../src/admin/pipeline-status.js';
import { parseSsOwner } from '../../../src/up/ports.js';
import { demoFleet } from '../../../src/up/demo-fleet.js';
import { provisionDemo, type RunIngest } from '../../../src/up/provision.js';
import { formatDemo, formatStatusLine } from '../../../src/up/status-line.js';
import { childEnv, childSpecs } from '../../../src/up/up.js';

describe('children of ingest up', () => {
  it('runs every component, N consumers, ports passed as flags', () => {
    const specs = childSpecs({ consumers: 3, frontendPort: 18080, dispatcherPort: 18081 });
    expect(specs.map((s) => s.name)).toEqual([
      'sync-cache',
      'dispatch',
      'maintain',
      'frontend',
      'consume-1',
      'consume-2',
      'consume-3',
      'notify',
    ]);
    expect(specs.find((s) => s.name === 'frontend')!.args).toEqual([
      'serve-frontend',
      '--port',
      '18080',
    ]);
    expect(specs.find((s) => s.name === 'dispatch')!.args).toEqual(['dispatch', '--port', '18081']);
    // What the others call stops last, so consumers can still release their queues.
    expect(specs.filter((s) => s.stopLast).map((s) => s.name)).toEqual([
      'sync-cache',
      'dispatch',
      'maintain',
    ]);
  });

  it('hands its settings to the children through their env variables', () => {
    const config = loadConfig(
      { pgUrl: 'postgres://postgres@127.0.0.1:5432/site', queuePrefix: 'x.', host: '0.0.0.0' },
      {},
    );
    const env = childEnv(config, { frontendPort: 18080, dispatcherPort: 18081 }, { PATH: '/bin' });
    expect(env).toMatchObject({
      PATH: '/bin',
      INGEST_PG_URL: 'postgres://postgres@127.0.0.1:5432/site',
      INGEST_REGISTRY_URL: 'postgres://postgres@127.0.0.1:5432/site',
      INGEST_QUEUE_PREFIX: 'x.',
      INGEST_FRONTEND_PORT: '18080',
      INGEST_DISPATCHER_URL: 'http://127.0.0.1:18081',
      INGEST_FRONTEND_URL: 'http://127.0.0.1:18080',
      INGEST_LOG_FORMAT: 'json',
    });
    expect(env.INGEST_ADMIN_TOKEN).toBeUndefined();
  });
});

describe('port owner', () => {
  it('reads pid and program from ss output', () => {
    expect(
      parseSsOwner('LISTEN 0 511 127.0.0.1:8080 0.0.0.0:* users:(("node",pid=4242,fd=21))'),
    ).toBe('pid 4242 (node)');
    expect(parseSsOwner('')).toBeUndefined();
  });
});

describe('provisionDemo', () => {
  it('adds only what is missing and treats "already exists" as done', async () => {
    const calls: string[][] = [];
    const run: RunIngest = async (args) => {
      calls.push(args);
      if (args[0] === 'accounts' && args[1] === 'list')
        return JSON.stringify([{ id: 'D0000001' }, { id: 'D0000002' }]);
      if (args[0] === 'gateways' && args[1] === 'list')
        return JSON.stringify([{ sourceKey: '02:DE:00:00:01:01' }]);
      if (args[2] === 'D0000003') throw new Error('ingest: account D0000003 already exists');
      return '';
    };
    const r = await provisionDemo(demoFleet(), {}, run);
    expect(r).toEqual({ accountsAdded: 2, gatewaysAdded: 9 });
    expect(calls.filter((c) => c[1] === 'add' && c[0] === 'accounts').map((c) => c[2])).toEqual([
      'D0000003',
      'D0000004',
      'D0000005',
    ]);
    const gw = calls.find((c) => c[0] === 'gateways' && c[2] === '02:DE:00:00:05:02')!;
    expect(gw).toEqual([
      'gateways',
      'add',
      '02:DE:00:00:05:02',
      '--account',
      'D0000005',
      '--token',
      expect.stringMatching(/^demo-/),
    ]);
  });

  it('fails clearly when a provisioning command fails for another reason', async () => {
    const run: RunIngest = async (args) => {
      if (args[1] === 'list') throw new Error('unknown command');
      throw new Error('cannot connect to PostgreSQL');
    };
    await expect(provisionDemo(demoFleet(), {}, run)).rejects.toThrow(
      /demo provisioning failed: cannot connect to PostgreSQL/,
    );
  });
});

describe('status line', () => {
  const snap: PipelineSnapshot = {
    at: Date.UTC(2026, 0, 1, 12, 0, 0),
    frontendUrl: 'http://127.0.0.1:8080',
    dispatcherUrl: 'http://127.0.0.1:8081',
    frontend: {
      ok: true,
      ready: true,
      requestsPerSec: 20,
      readingsPerSec: 80,
      non2xxPerSec: 0,
      requestsTotal: 100,
      non2xxTotal: 0,
      readingsTotal: 400,
      confirmP50Ms: 3,
      confirmP99Ms: 12.5,
      inFlight: 0,
    },
    dispatcher: { ok: false, error: 'connection refused' },
    storage: {
      ok: true,
      rowsPerSec: 320,
      rowsInserted: 12_000,
      rowsEstimate: 12_000,
      deliveriesFailedLastHour: 0,
      deliveriesDeadLastHour: 0,
    },
  };
  it('says what runs and what is down in one line', () => {
    const line = formatStatusLine(
      snap,
      [
        { name: 'frontend', state: 'up', pid: 1, restarts: 0 },
        { name: 'notify', state: 'restarting', pid: undefined, restarts: 2 },
      ],
      {
        running: true,
        sent: 100,
        ok: 98,
        readingsAccepted: 392,
        rejected: { 503: 2 },
        errors: 0,
        lastProblem: 'HTTP 503 {}',
        endsAt: 0,
      },
    );
    expect(line).toContain('frontend ready 20/s req, 80/s readings, p99 13ms');
    expect(line).toContain('dispatcher DOWN (connection refused)');
    expect(line).toContain('stored 320/s rows');
    expect(line).toContain('processes 1/2 up (restarting: notify)');
    expect(line).toContain('demo running: sent 100, 2xx 98 (392 readings), non-2xx 503x2');
    expect(line.includes('\n')).toBe(false);
  });
  it('formats finished demo traffic', () => {
    expect(
      formatDemo({
        running: false,
        sent: 5,
        ok: 5,
        readingsAccepted: 20,
        rejected: {},
        errors: 0,
        lastProblem: undefined,
        endsAt: 0,
      }),
    ).toBe('done: sent 5, 2xx 5 (20 readings)');
    const many = {
      running: false,
      sent: 6512,
      ok: 6512,
      readingsAccepted: 26048,
      rejected: {},
      errors: 0,
      lastProblem: undefined,
      endsAt: 0,
    };
    expect(formatDemo(many)).toBe('done: sent 6.5k, 2xx 6.5k (26k readings)');
    expect(formatDemo(many, true)).toBe('done: sent 6512, 2xx 6512 (26048 readings)');
  });
});
