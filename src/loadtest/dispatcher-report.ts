/** The table of `ingest loadtest dispatcher`. */
import { renderTable } from '../cli/output.js';
import { DISPATCHER_TARGET, type DispatcherLoadReport } from './dispatcher-loadtest.js';
import { round } from './stats.js';

export function renderDispatcherReport(r: DispatcherLoadReport): string {
  const rows = r.results.map((x) => [
    x.consumers,
    x.http.cyclesPerSecond,
    round(x.http.claim.mean, 2),
    round(x.http.cycle.mean, 2),
    round(x.http.cycle.p50, 2),
    round(x.http.cycle.p99, 2),
    x.raw ? x.raw.cyclesPerSecond : '-',
    x.raw ? round(x.raw.claim.p50, 2) : '-',
    x.raw ? round(x.raw.cycle.mean, 2) : '-',
    x.ofRaw ?? '-',
    x.originalMeanMs ?? '-',
    x.originalMeanMs ? `${Math.round(x.originalMeanMs / Math.max(x.http.claim.mean, 0.01))}x` : '-',
    x.http.overlaps + (x.raw?.overlaps ?? 0),
    x.http.empty + x.http.errors,
  ]);
  const table = renderTable(
    [
      'consumers',
      'cycles/s',
      'next mean ms',
      'cycle mean ms',
      'cycle p50 ms',
      'cycle p99 ms',
      'raw cycles/s',
      'raw claim p50',
      'raw cycle mean',
      'of raw',
      'orig next ms',
      'vs orig',
      'held twice',
      '204/errors',
    ],
    rows,
  );
  const lines = [
    `dispatcher ${r.target.url}${r.target.startedByLoadtest ? ' (ingest dispatch started by the load test on a throwaway database)' : ''}, ${r.target.queues} queues, strategy ${r.target.strategy}, ${r.durationMs / 1000} s per step`,
    `machine: ${r.machine.cpus} x ${r.machine.cpuModel}, node ${r.machine.node}, ${r.machine.date}`,
    table,
    r.mode === 'combined'
      ? 'cycle = one POST /queue/next {"release": <previous queue>, "lease"} (give back + take next, as `ingest consume` does), keep-alive connection per consumer.'
      : 'cycle = POST /queue/next, then POST /queue/:id/release, keep-alive connection per consumer.',
    `raw = each consumer's own statements straight at PostgreSQL (${r.mode === 'combined' ? 'release+claim in one prepared statement' : 'prepared claim, then prepared release'}), as many connections, same run; of raw = cycles/s ÷ raw cycles/s. The dispatcher coalesces concurrent requests into one claimBatch statement, so it can pass 1.`,
    'orig = the original dispatcher, mean ms of /queue/next alone.',
    `held twice: ${r.heldTwice === 0 ? 'never (0)' : `${r.heldTwice} TIMES`} — a queue handed out again before its holder released it, or a release refused because its lease had been taken.`,
  ];
  if (r.verdict)
    lines.push(
      `target at ${DISPATCHER_TARGET.consumers} consumers (mean <= ${DISPATCHER_TARGET.meanMs} ms, p99 <= ${DISPATCHER_TARGET.p99Ms} ms, >= ${DISPATCHER_TARGET.ofRaw} of raw): mean ${r.verdict.meanMs} ms, p99 ${r.verdict.p99Ms} ms${r.verdict.ofRaw !== undefined ? `, ${r.verdict.ofRaw} of raw` : ''} -> ${r.verdict.met ? 'MET' : 'MISSED'}`,
    );
  const err = r.results.map((x) => x.http.firstError ?? x.raw?.firstError).find(Boolean);
  if (r.errors) lines.push(`errors: ${r.errors} (first: ${err})`);
  return lines.join('\n');
}

/** Exit non-zero when a queue was held twice or requests failed. */
export function dispatcherReportFailed(r: DispatcherLoadReport): boolean {
  return r.heldTwice > 0 || r.errors > 0;
}
