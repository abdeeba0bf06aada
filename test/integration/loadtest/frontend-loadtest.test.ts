import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFrontendLoadtest } from '../../../src/loadtest/frontend-loadtest.js';
import { silentLogger } from '../../../src/core/logger.js';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';

// Drives the built CLI (serve-frontend, accounts, gateways, sync-cache): run `npm run build` first
// (npm test does).
describe('ingest loadtest frontend (real servers, built CLI)', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv();
  });
  afterAll(async () => env.cleanup());

  it('sends an exact request count, measures the raw ceiling, and finds every 2xx in the queue', async () => {
    const report = await runFrontendLoadtest({
      config: env.config,
      logger: silentLogger(),
      sizes: [50, 300],
      connections: 2,
      durationMs: 1_000,
      requests: 30,
    });
    expect(report.target.startedByLoadtest).toBe(true);
    for (const r of report.results) {
      expect(r.ok).toBe(30);
      expect(r.non2xx + r.errors).toBe(0);
      expect(r.queue).toMatchObject({ verdict: 'exact', grew: 30, expected: 30 });
      expect(r.raw?.messages).toBeGreaterThan(0);
      expect(r.readingsPerSecond).toBeGreaterThan(0);
    }
    // The sandbox database (named like its queue prefix) is gone afterwards.
    const sandboxDb = `ingest_${report.target.queue.split('.')[0]}`;
    expect(sandboxDb).toMatch(/^ingest_loadtest_/);
    const { rows } = await env.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_database WHERE datname = $1',
      [sandboxDb],
    );
    expect(rows[0]?.n ?? 0).toBe(0);
  }, 120_000);
});
