/** `ingest loadtest dispatcher` end to end, short: it starts `ingest dispatch` (built dist) on a throwaway database. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import { runDispatcherLoadtest } from '../../../src/loadtest/dispatcher-loadtest.js';
import {
  dispatcherReportFailed,
  renderDispatcherReport,
} from '../../../src/loadtest/dispatcher-report.js';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';

let env: TestEnv;

async function sandboxes(): Promise<string[]> {
  const r = await env.pool.query<{ datname: string }>(
    `SELECT datname FROM pg_database WHERE datname LIKE 'ingest_ltdisp_%'`,
  );
  return r.rows.map((x) => x.datname);
}

beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => {
  await env?.cleanup();
});

describe('ingest loadtest dispatcher', () => {
  for (const mode of ['combined', 'separate'] as const) {
    it(`runs each consumer count against its own dispatcher and the raw ceiling (${mode})`, async () => {
      const before = await sandboxes();
      const report = await runDispatcherLoadtest({
        config: env.with({ strategy: 'messages-first' }),
        logger: silentLogger(),
        consumers: [1, 3],
        queues: 20,
        durationMs: 1_000,
        mode,
      });
      expect(report.target.startedByLoadtest).toBe(true);
      expect(report.mode).toBe(mode);
      expect(report.results.map((r) => r.consumers)).toEqual([1, 3]);
      for (const r of report.results) {
        expect(r.http.cycles).toBeGreaterThan(0);
        expect(r.http.errors).toBe(0);
        expect(r.http.overlaps).toBe(0);
        expect(r.raw?.cycles).toBeGreaterThan(0);
        expect(r.ofRaw).toBeGreaterThan(0);
        expect(r.originalMeanMs).toBe(r.consumers === 1 ? 130 : undefined);
      }
      expect(report.heldTwice).toBe(0);
      expect(dispatcherReportFailed(report)).toBe(false);
      const text = renderDispatcherReport(report);
      expect(text).toMatch(/held twice: never \(0\)/);
      expect(text).toMatch(/orig next ms/);
      // The throwaway database is gone.
      expect(await sandboxes()).toEqual(before);
    });
  }
});
