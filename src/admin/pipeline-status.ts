/**
 * One sample of the whole pipeline for the dashboard and `ingest up`'s status
 * line: the frontend (from /metrics and /ready), the dispatcher and its queues
 * (GET /queue/status), and storage (PostgreSQL statistics). Each source fails
 * on its own: a component that does not answer is DOWN, never an exception.
 */
import { createPgPool } from '../adapters/postgres/pool.js';
import {
  createDispatcherClient,
  type DispatcherStatus,
  type QueueStatusEntry,
} from '../dispatcher/client.js';
import { errorMessage } from '../core/errors.js';
import {
  frontendCounters,
  frontendRates,
  counterRate,
  type FrontendCounters,
  type FrontendRates,
} from './metrics-frontend.js';
import { createScraper, shortReason } from './metrics-http.js';
import { parsePrometheusText } from './metrics-text.js';
import { registryCounts } from '../dispatcher/queue-counts.js';
import { readStorageCounters, type StorageCounters } from './pipeline-storage.js';

export type Down = { ok: false; error: string };

export type FrontendSection = ({ ok: true; ready: boolean; hint?: string } & FrontendRates) | Down;

export interface QueueRow {
  id: string;
  state: QueueStatusEntry['state'];
  ready: number;
  unacked: number;
  total: number;
  consumer: string | null;
  /** How long the current lease has been held, ms; null when not leased. */
  leaseAgeMs: number | null;
}

export type DispatcherSection =
  | {
      ok: true;
      dispatcher: DispatcherStatus;
      queues: QueueRow[];
      byState: Record<QueueStatusEntry['state'], number>;
      messages: number;
      /** Consumer processes holding a queue now (a consumer id is "host:pid/slot"). */
      activeConsumers: number;
    }
  | Down;

export type StorageSection =
  | {
      ok: true;
      rowsPerSec: number | undefined;
      /** Rows inserted into readings since PostgreSQL's statistics were reset. */
      rowsInserted: number;
      rowsEstimate: number;
      deliveriesFailedLastHour: number | undefined;
      deliveriesDeadLastHour: number | undefined;
    }
  | Down;

export interface PipelineSnapshot {
  at: number;
  frontendUrl: string;
  dispatcherUrl: string;
  frontend: FrontendSection;
  dispatcher: DispatcherSection;
  storage: StorageSection | undefined;
}

export interface PipelinePollerOptions {
  frontendUrl: string;
  dispatcherUrl: string;
  /** Storage figures are left out without it. */
  pgUrl?: string;
  timeoutMs?: number;
}

export interface PipelinePoller {
  sample(): Promise<PipelineSnapshot>;
  close(): Promise<void>;
}

const STORAGE_WINDOW_MS = 5_000;

const trimSlash = (u: string): string => u.replace(/\/+$/, '');

/** Queue rows, deepest first (ties by name), from a /queue/status answer. */
export function queueRows(queues: readonly QueueStatusEntry[], now = Date.now()): QueueRow[] {
  return queues
    .map((q) => ({ q, counts: registryCounts(q) }))
    .map(({ q, counts }) => ({
      id: q.id,
      state: q.state,
      ready: counts.ready,
      unacked: counts.unacked,
      total: counts.total,
      consumer: q.consumer,
      leaseAgeMs:
        q.state === 'busy' && q.leasedAt ? Math.max(0, now - Date.parse(q.leasedAt)) : null,
    }))
    .sort((a, b) => b.total - a.total || a.id.localeCompare(b.id));
}

export function countByState(rows: readonly QueueRow[]): Record<QueueStatusEntry['state'], number> {
  const out = { idle: 0, empty: 0, busy: 0, paused: 0, deleted: 0 };
  for (const r of rows) out[r.state] = (out[r.state] ?? 0) + 1;
  return out;
}

export function activeConsumers(rows: readonly QueueRow[]): number {
  const ids = rows.filter((r) => r.consumer).map((r) => r.consumer!.replace(/\/[^/]*$/, ''));
  return new Set(ids).size;
}

export function createPipelinePoller(opts: PipelinePollerOptions): PipelinePoller {
  const frontendUrl = trimSlash(opts.frontendUrl);
  const timeoutMs = opts.timeoutMs ?? 2_000;
  const scraper = createScraper({ timeoutMs });
  const dispatcher = createDispatcherClient({ url: opts.dispatcherUrl, timeoutMs, maxSockets: 2 });
  const pool = opts.pgUrl
    ? createPgPool(opts.pgUrl, { max: 1, application: 'ingest-dashboard' })
    : undefined;
  let prevFrontend: FrontendCounters | undefined;
  // Statistics reach pg_stat with a delay of up to a few seconds per backend, so the rate
  // is taken over a window of recent samples rather than between the last two.
  let storageWindow: StorageCounters[] = [];
  let closed = false;

  async function frontend(): Promise<FrontendSection> {
    try {
      const [metrics, ready] = await Promise.all([
        scraper.get(`${frontendUrl}/metrics`),
        scraper.get(`${frontendUrl}/ready`).catch(() => ({ status: 0, body: '' })),
      ]);
      if (metrics.status !== 200)
        return { ok: false, error: `/metrics answered HTTP ${metrics.status}` };
      const cur = frontendCounters(parsePrometheusText(metrics.body));
      const rates = frontendRates(prevFrontend, cur);
      prevFrontend = cur;
      const hint = cur.found.requests ? undefined : 'no request counter in /metrics';
      return { ok: true, ready: ready.status === 200, ...rates, ...(hint ? { hint } : {}) };
    } catch (err) {
      prevFrontend = undefined;
      return { ok: false, error: shortReason(err) };
    }
  }

  async function queues(): Promise<DispatcherSection> {
    try {
      const status = await dispatcher.status();
      const rows = queueRows(status.queues ?? []);
      return {
        ok: true,
        dispatcher: status.dispatcher,
        queues: rows,
        byState: countByState(rows),
        messages: rows.reduce((n, r) => n + r.total, 0),
        activeConsumers: activeConsumers(rows),
      };
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      return { ok: false, error: cause ? shortReason(cause) : errorMessage(err) };
    }
  }

  async function storage(): Promise<StorageSection | undefined> {
    if (!pool) return undefined;
    try {
      const cur = await readStorageCounters(pool);
      // Keep the samples of the window, or at least the previous one (slow refresh intervals).
      const recent = storageWindow.filter((c) => cur.at - c.at <= STORAGE_WINDOW_MS);
      storageWindow = [...(recent.length > 0 ? recent : storageWindow.slice(-1)), cur];
      const oldest = storageWindow[0]!;
      const rowsPerSec =
        oldest === cur
          ? undefined
          : counterRate(oldest.rowsInserted, cur.rowsInserted, (cur.at - oldest.at) / 1000);
      return {
        ok: true,
        rowsPerSec,
        rowsInserted: cur.rowsInserted,
        rowsEstimate: cur.rowsEstimate,
        deliveriesFailedLastHour: cur.deliveriesFailedLastHour,
        deliveriesDeadLastHour: cur.deliveriesDeadLastHour,
      };
    } catch (err) {
      storageWindow = [];
      return { ok: false, error: shortReason(err) };
    }
  }

  return {
    async sample() {
      const [f, d, s] = await Promise.all([frontend(), queues(), storage()]);
      return {
        at: Date.now(),
        frontendUrl,
        dispatcherUrl: dispatcher.url,
        frontend: f,
        dispatcher: d,
        storage: s,
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      scraper.close();
      dispatcher.close();
      await pool?.end().catch(() => undefined);
    },
  };
}
