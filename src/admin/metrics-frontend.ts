/**
 * The frontend's figures read off its Prometheus text, and turned into rates
 * between two scrapes. Metric names are matched by pattern (requests_total with
 * a status label, a readings-accepted counter, a confirm-latency histogram) so
 * the dashboard keeps working if a metric is renamed within those conventions.
 */
import {
  bucketDelta,
  histogramBuckets,
  histogramQuantile,
  metricNames,
  sumOf,
  type Buckets,
  type LabelFilter,
  type Sample,
} from './metrics-text.js';

export interface FrontendCounters {
  /** When the scrape was taken (ms since epoch). */
  at: number;
  requests: number;
  non2xx: number;
  readings: number;
  /** Publish-confirm latency histogram, cumulative, in milliseconds. */
  confirmMs: Buckets;
  inFlight: number | undefined;
  /** Which metrics were found (for a hint when none are). */
  found: { requests?: string; readings?: string; confirm?: string };
}

export interface FrontendRates {
  requestsPerSec: number;
  readingsPerSec: number;
  non2xxPerSec: number;
  /** Totals since the frontend started. */
  requestsTotal: number;
  non2xxTotal: number;
  readingsTotal: number;
  confirmP50Ms: number | undefined;
  confirmP99Ms: number | undefined;
  inFlight: number | undefined;
}

const STATUS_LABELS = ['status', 'status_code', 'statusCode', 'code'] as const;

function statusOf(labels: Readonly<Record<string, string>>): string | undefined {
  for (const k of STATUS_LABELS) if (labels[k] !== undefined) return labels[k];
  return undefined;
}

function pick(names: Set<string>, patterns: RegExp[]): string | undefined {
  const all = [...names].filter((n) => !n.includes('dispatcher')).sort();
  for (const p of patterns) {
    const hit = all.find((n) => p.test(n));
    if (hit) return hit;
  }
  return undefined;
}

/** Requests to the readings route only, when the metric says which route (scrapes are not traffic). */
function readingsRoute(samples: readonly Sample[], name: string): LabelFilter {
  const routed = samples.some(
    (s) => s.name === name && (s.labels.route ?? s.labels.path) !== undefined,
  );
  if (!routed) return () => true;
  return (l) => /readings/.test(l.route ?? l.path ?? '');
}

export function frontendCounters(samples: readonly Sample[], at = Date.now()): FrontendCounters {
  const names = metricNames(samples);
  const found: FrontendCounters['found'] = {};
  let requests = 0;
  let non2xx = 0;
  const reqName = pick(names, [
    /frontend.*requests_total$/,
    /^ingest_.*requests_total$/,
    /http_requests_total$/,
    /requests_total$/,
  ]);
  if (reqName) {
    found.requests = reqName;
    const route = readingsRoute(samples, reqName);
    requests = sumOf(samples, reqName, route);
    non2xx = sumOf(samples, reqName, (l) => {
      const s = statusOf(l);
      return route(l) && s !== undefined && !s.startsWith('2');
    });
  }

  let readings = 0;
  const accepted = pick(names, [/readings.*accepted.*_total$/, /accepted.*readings.*_total$/]);
  if (accepted) {
    found.readings = accepted;
    readings = sumOf(samples, accepted);
  } else {
    const byResult = pick(names, [/frontend.*readings_total$/, /readings_total$/]);
    if (byResult) {
      found.readings = byResult;
      readings = sumOf(
        samples,
        byResult,
        (l) => (l.result ?? l.outcome ?? 'accepted') === 'accepted',
      );
    }
  }

  const bucketNames = new Set(
    [...names].filter((n) => n.endsWith('_bucket')).map((n) => n.slice(0, -'_bucket'.length)),
  );
  const confirm = pick(bucketNames, [/confirm/, /publish/]);
  let confirmMs: Buckets = [];
  if (confirm) {
    found.confirm = confirm;
    const scale = /_ms$|milliseconds$/.test(confirm) ? 1 : 1000;
    confirmMs = histogramBuckets(samples, confirm).map(([le, n]) => [le * scale, n] as const);
  }

  const inFlightName = pick(names, [/frontend.*in_?flight/, /in_?flight/]);
  const inFlight = inFlightName ? sumOf(samples, inFlightName) : undefined;
  return { at, requests, non2xx, readings, confirmMs, inFlight, found };
}

/** Per-second rate of a counter between two readings; a counter that went down restarted. */
export function counterRate(prev: number, cur: number, seconds: number): number {
  if (seconds <= 0) return 0;
  const delta = cur >= prev ? cur - prev : cur;
  return delta / seconds;
}

export function frontendRates(
  prev: FrontendCounters | undefined,
  cur: FrontendCounters,
): FrontendRates {
  const seconds = prev ? (cur.at - prev.at) / 1000 : 0;
  const window = prev ? bucketDelta(prev.confirmMs, cur.confirmMs) : cur.confirmMs;
  return {
    requestsPerSec: prev ? counterRate(prev.requests, cur.requests, seconds) : 0,
    readingsPerSec: prev ? counterRate(prev.readings, cur.readings, seconds) : 0,
    non2xxPerSec: prev ? counterRate(prev.non2xx, cur.non2xx, seconds) : 0,
    requestsTotal: cur.requests,
    non2xxTotal: cur.non2xx,
    readingsTotal: cur.readings,
    confirmP50Ms: histogramQuantile(0.5, window),
    confirmP99Ms: histogramQuantile(0.99, window),
    inFlight: cur.inFlight,
  };
}
