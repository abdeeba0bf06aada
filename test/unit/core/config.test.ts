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

  it('is frozen and redacts secrets', () => {
    const c = loadConfig({ amqpUrl: 'amqp://u:hunter2@h:5672', adminToken: 'sekrit' }, {});
    expect(Object.isFrozen(c)).toBe(true);
    const shown = JSON.stringify(describeConfig(c));
    expect(shown).not.toContain('hunter2');
    expect(shown).not.toContain('sekrit');
  });
});
