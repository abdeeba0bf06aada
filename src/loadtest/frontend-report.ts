/** Tables for `ingest loadtest frontend`. */
import { renderTable } from '../cli/output.js';
import type { FrontendLoadReport } from './frontend-loadtest.js';
import { round } from './stats.js';

export function renderFrontendReport(report: FrontendLoadReport): string {
  const rows = report.results.map((r) => [
    r.readings,
    r.connections,
    r.latency.p50,
    r.latency.p90,
    r.latency.p99,
    r.requestsPerSecond,
    r.readingsPerSecond.toLocaleString('en-US'),
    r.non2xx + r.errors,
    r.raw ? round(r.raw.latency.p50, 1) : '-',
    r.raw ? Math.round(r.raw.readingsPerSecond).toLocaleString('en-US') : '-',
    r.ofRaw ?? '-',
    r.baseline?.newMs ?? '-',
    r.baseline?.oldMs ?? '-',
    r.baseline ? `${round(r.baseline.newMs / Math.max(r.latency.p50, 1), 1)}x` : '-',
  ]);
  const main = renderTable(
    [
      'readings/req',
      'conns',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'req/s',
      'readings/s',
      'non-2xx',
      'raw p50 ms',
      'raw readings/s',
      'of raw',
      'orig new ms',
      'orig old ms',
      'vs orig new',
    ],
    rows,
  );
  const checks = report.results.map((r) => {
    const q = r.queue;
    return `  ${r.readings} readings/req: ${q.verdict}: queue grew by ${q.grew} message(s), 2xx acknowledged ${r.ok} request(s) = ${q.expected} message(s)`;
  });
  return [
    `target ${report.target.url}${report.target.startedByLoadtest ? ' (started by the load test in a sandbox)' : ''}, queue ${report.target.queue}`,
    main,
    'raw = the same messages published straight to RabbitMQ with confirms from one Node process, same concurrency, same run.',
    'orig = the original system (new frontend / old frontend), ms per request.',
    'durability check (every 2xx is a message in the queue):',
    ...checks,
  ].join('\n');
}

/** Exit non-zero when a 2xx was answered for data that is not in the queue. */
export function reportFailed(report: FrontendLoadReport): boolean {
  return report.results.some((r) => r.queue.verdict === 'MISSING MESSAGES');
}
