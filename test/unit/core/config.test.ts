import { describe, expect, it } from 'vitest';
import { describeConfig, loadConfig } from '../../../src/core/config.js';

describe('loadConfig', () => {
  it('uses defaults that work on loopback', () => {
    const c = loadConfig({}, {});
    expect(c.pgUrl).toBe('postgres://postgres@127.0.0.1:5432/ingest');
    expect(c.registryUrl).toBe(c.pgUrl);
    expect(c.frontendPort).toBe(8080);
    expect(c.bodyLimit).toBe(8 * 1024 * 1024);
    expect(c.publishTimeout).toBe(5000);
  });

  it('lets env override defaults and flags override env', () => {
    const env = { INGEST_FRONTEND_PORT: '9000', INGEST_TOKEN_CACHE_TTL: '2s' };
    expect(loadConfig({}, env).frontendPort).toBe(9000);
    expect(loadConfig({ frontendPort: '9100' }, env).frontendPort).toBe(9100);
    expect(loadConfig({}, env).tokenCacheTtl).toBe(2000);
  });

  it('names the source of a bad value', () => {
    expect(() => loadConfig({}, { INGEST_FRONTEND_PORT: 'x' })).toThrow(/INGEST_FRONTEND_PORT/);
    expect(() => loadConfig({ strategy: 'random' }, {})).toThrow(/--strategy.*fifo/);
  });

  it("refuses numbers outside a setting's range, in its own terms (no busy loop, no server refusing it later)", () => {
    expect(() => loadConfig({ bodyLimit: '0' }, {})).toThrow(
      '--body-limit: must be between 1b and 128mb, got "0"',
    );
    expect(() => loadConfig({}, { INGEST_BODY_LIMIT: '200mb' })).toThrow(
      'INGEST_BODY_LIMIT: must be between 1b and 128mb, got "200mb"',
    );
    expect(loadConfig({ bodyLimit: '128mb' }, {}).bodyLimit).toBe(2 ** 27);
    expect(() => loadConfig({ maintainInterval: '0' }, {})).toThrow(
      '--interval: must be between 100ms and 24d, got "0"',
    );
    expect(() => loadConfig({}, { INGEST_CACHE_SYNC_INTERVAL: '10ms' })).toThrow(
      /between 100ms and 24d/,
    );
    expect(() => loadConfig({ workers: '0' }, {})).toThrow('--workers: must be between 1 and 64');
    expect(() => loadConfig({ consumerBatch: '0' }, {})).toThrow('--batch: must be at least 1');
    expect(() => loadConfig({ notifyRetryDelay: '10m' }, {})).toThrow(/between 1ms and 5m/);
    // Node fires a timer longer than 2^31-1 ms after 1 ms: a month would busy-loop.
    for (const over of [
      { cacheSyncInterval: '30d' },
      { maintainInterval: '30d' },
      { publishTimeout: '30d' },
      { notifyTimeout: '30d' },
      { leaseTimeout: '30d' },
    ])
      expect(() => loadConfig(over, {})).toThrow(/ and 24d, got "30d"/);
    expect(loadConfig({ ledgerRetention: '90d' }, {}).ledgerRetention).toBe(90 * 86_400_000);
    // Zero still means "off" where the setting says so.
    expect(
      loadConfig({ deleteGrace: '0ms', rateLimit: '0', ledgerRetention: '0' }, {}),
    ).toMatchObject({ deleteGrace: 0, rateLimit: 0, ledgerRetention: 0 });
  });

  it('checks URLs and ports when they are read, naming the flag, never echoing a secret URL', () => {
    expect(() => loadConfig({ dispatcherUrl: 'notaurl' }, {})).toThrow(
      '--dispatcher: not a URL "notaurl" (it must start with http://)',
    );
    expect(() => loadConfig({ dispatcherUrl: 'ftp://x' }, {})).toThrow(
      '--dispatcher: must start with http://, not ftp: (ftp://x)',
    );
    expect(() => loadConfig({ dispatcherUrl: 'http://[bad' }, {})).toThrow(
      '--dispatcher: not a URL "http://[bad"',
    );
    expect(() => loadConfig({ frontendPort: '99999' }, {})).toThrow(
      '--port: not a port (0 to 65535): "99999"',
    );
    expect(() => loadConfig({}, { INGEST_AMQP_URL: 'http://u:hunter2@h' })).toThrow(
      /^INGEST_AMQP_URL: must start with amqp:\/\/ or amqps:\/\/, not http:$/,
    );
    expect(() => loadConfig({ pgUrl: 'u:hunter2@h/db' }, {})).toThrow(
      /^--pg-url: must start with postgres:\/\/ or postgresql:\/\/ or socket:\/\/, not u:$/,
    );
    expect(() => loadConfig({ pgUrl: 'hunter2' }, {})).toThrow(/^--pg-url: not a URL \(it must/);
  });

  it('accepts the URL forms the drivers take that WHATWG URL does not', () => {
    const ok = {
      registryUrl: 'mongodb://h1:27017,h2:27017/ingest?replicaSet=rs0',
      pgUrl: 'postgres://u:pw@/ingest?host=/var/run/postgresql',
      amqpUrl: 'amqp://guest:guest@127.0.0.1:5672/%2Fvhost',
      redisUrl: 'redis://127.0.0.1:6379/3',
      managementUrl: '',
    };
    expect(loadConfig(ok, {})).toMatchObject(ok);
    expect(loadConfig({ pgUrl: 'socket:/var/run/postgresql?db=ingest' }, {}).pgUrl).toBe(
      'socket:/var/run/postgresql?db=ingest',
    );
    expect(loadConfig({ pgUrl: '/var/run/postgresql ingest' }, {}).pgUrl).toBe(
      '/var/run/postgresql ingest',
    );
  });

  it('is frozen and redacts secrets', () => {
    const c = loadConfig({ amqpUrl: 'amqp://u:hunter2@h:5672', adminToken: 'sekrit' }, {});
    expect(Object.isFrozen(c)).toBe(true);
    const shown = JSON.stringify(describeConfig(c));
    expect(shown).not.toContain('hunter2');
    expect(shown).not.toContain('sekrit');
  });
});
