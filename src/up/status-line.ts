/** The one-line status `ingest up` prints every few seconds when there is no dashboard. */
import type { PipelineSnapshot } from '../admin/pipeline-status.js';
import { clock, fmtCount, fmtMs, fmtRate } from '../tui/format.js';
import type { ProcessView } from '../tui/components/processes-panel.js';
import type { DemoTrafficStats } from './demo-traffic.js';

/** `exact` prints whole numbers (the final summary) instead of 1.2k. */
export function formatDemo(d: DemoTrafficStats, exact = false): string {
  const fmt = exact ? (n: number) => String(n) : fmtCount;
  const rejected = Object.entries(d.rejected)
    .map(([status, n]) => `${status}x${n}`)
    .join(' ');
  return (
    `${d.running ? 'running' : 'done'}: sent ${fmt(d.sent)}, 2xx ${fmt(d.ok)} ` +
    `(${fmt(d.readingsAccepted)} readings)` +
    (rejected ? `, non-2xx ${rejected}` : '') +
    (d.errors ? `, errors ${d.errors}` : '') +
    (d.lastProblem && (rejected || d.errors) ? ` (last: ${d.lastProblem})` : '')
  );
}

export function formatStatusLine(
  snap: PipelineSnapshot,
  processes: readonly ProcessView[],
  demo?: DemoTrafficStats,
): string {
  const parts: string[] = [clock(snap.at)];
  const f = snap.frontend;
  parts.push(
    f.ok
      ? `frontend ${f.ready ? 'ready' : 'not ready'} ${fmtRate(f.requestsPerSec)} req, ${fmtRate(f.readingsPerSec)} readings, p99 ${fmtMs(f.confirmP99Ms)}, non-2xx ${fmtCount(f.non2xxTotal)}`
      : `frontend DOWN (${f.error})`,
  );
  const d = snap.dispatcher;
  parts.push(
    d.ok
      ? `dispatcher ${d.dispatcher.state} ${d.dispatcher.effectiveStrategy}, maintainer ${d.dispatcher.maintainer.alive ? 'alive' : 'stale'}, queues ${d.queues.length} (busy ${d.byState.busy}), messages ${fmtCount(d.messages)}`
      : `dispatcher DOWN (${d.error})`,
  );
  const s = snap.storage;
  if (s)
    parts.push(
      s.ok
        ? `stored ${fmtRate(s.rowsPerSec)} rows (~${fmtCount(s.rowsEstimate)})`
        : `storage DOWN (${s.error})`,
    );
  const up = processes.filter((p) => p.state === 'up').length;
  const restarting = processes.filter((p) => p.state === 'restarting').map((p) => p.name);
  parts.push(
    `processes ${up}/${processes.length} up${restarting.length ? ` (restarting: ${restarting.join(', ')})` : ''}`,
  );
  if (demo) parts.push(`demo ${formatDemo(demo)}`);
  return parts.join(' | ');
}
