/** The pipeline load test's report for people, and its pass/fail verdicts. */
import type { PipelineReport } from './pipeline-loadtest.js';
import { renderCpuBudget } from './cpu-budget.js';

export const PIPELINE_TARGETS = {
  valuesPerSec: 50_000,
  ratioOfCeiling: 0.7,
  othersLagP99Ms: 5_000,
} as const;

export interface Verdict {
  name: string;
  ok: boolean;
  detail: string;
}

export function pipelineVerdicts(r: PipelineReport): Verdict[] {
  const v: Verdict[] = [
    {
      name: 'exactly once',
      ok: r.duplicates === 0 && r.missing === 0 && !r.timedOut,
      detail: `stored ${r.stored} of ${r.accepted.values + (r.warmup?.values ?? 0)} accepted values${r.warmup ? ` (${r.warmup.values} of them in the warm-up)` : ''}, ${r.duplicates} duplicates, ${r.missing} missing${r.timedOut ? ' (timed out)' : ''}`,
    },
  ];
  if (r.flood)
    v.push({
      name: 'flood isolation',
      ok: r.flood.othersLagMs.p99 < PIPELINE_TARGETS.othersLagP99Ms,
      detail: `others' lag p99 ${r.flood.othersLagMs.p99} ms vs flood's ${r.flood.floodLagMs.p99} ms (target < ${PIPELINE_TARGETS.othersLagP99Ms} ms)`,
    });
  else {
    // (A flood run paces the other accounts on purpose: its rates say nothing about throughput.)
    v.push({
      name: 'throughput',
      ok: r.valuesPerSec >= PIPELINE_TARGETS.valuesPerSec,
      detail: `${r.valuesPerSec} values/s end to end (target >= ${PIPELINE_TARGETS.valuesPerSec})`,
    });
    if (r.ratioOfCeiling !== undefined)
      v.push({
        name: 'share of ceiling',
        ok: r.ratioOfCeiling >= PIPELINE_TARGETS.ratioOfCeiling,
        detail: `${r.ratioOfCeiling} of the write-path ceiling ${r.ceiling?.rowsPerSec} values/s (target >= ${PIPELINE_TARGETS.ratioOfCeiling})`,
      });
  }
  return v;
}

export function pipelineFailed(r: PipelineReport): boolean {
  return !pipelineVerdicts(r)[0]!.ok;
}

export function renderPipelineReport(r: PipelineReport): string {
  const rej = Object.entries(r.accepted.rejected);
  const lines = [
    `pipeline load test — ${r.machine.cpus} CPUs, Node ${r.machine.node}, ${r.machine.date}`,
    `  settings:    ${JSON.stringify(r.settings)}`,
    `  accepted:    ${r.accepted.requests} requests, ${r.accepted.readings} readings, ${r.accepted.values} values${rej.length ? ` (rejected: ${rej.map(([k, n]) => `${k}×${n}`).join(', ')})` : ''}`,
    ...(r.warmup
      ? [
          `  warm-up:     ${r.warmup.requests} requests, ${r.warmup.values} values fed and stored in ${r.warmup.seconds} s before the clock started`,
        ]
      : []),
    `  stored:      ${r.stored} rows   duplicates: ${r.duplicates}   missing: ${r.missing}   redelivered values dropped: ${r.redeliveredValues}`,
    `  end to end:  ${r.valuesPerSec} values/s (${r.seconds} s from first request to last commit)`,
    `  frontend:    accepted ${r.acceptedValuesPerSec} values/s (feeding took ${r.feedSeconds} s)`,
    `  writes:      ${r.transactions.count} transactions, ${r.transactions.meanValues} values and ${r.transactions.meanMs} ms each on average (group commit across queues)`,
    `  leases:      ${r.leases.withMessages} with messages (${(r.leases.messages / Math.max(1, r.leases.withMessages)).toFixed(2)} messages each), ${r.leases.empty} found empty`,
    `  lag:         p50 ${r.lagMs.p50} ms   p99 ${r.lagMs.p99} ms   max ${r.lagMs.max} ms (receipt -> commit, ${r.lagMs.count} messages)`,
  ];
  if (r.sustainedValuesPerSec !== undefined)
    lines.push(
      `  sustained:   ${r.sustainedValuesPerSec} values/s while running full (10% -> 90% of the rows committed)${r.sustainedRatioOfCeiling !== undefined ? ` -> ${r.sustainedRatioOfCeiling} of the ceiling (for information: the target is judged end to end)` : ''}`,
    );
  if (r.ceiling)
    lines.push(
      `  ceiling:     ${r.ceiling.rowsPerSec} values/s, mean of ${r.ceiling.before.rowsPerSec} before and ${r.ceiling.after.rowsPerSec} after the run (copy-ledger straight into PostgreSQL, same sandbox, ${r.settings.writers} at once) -> end to end is ${r.ratioOfCeiling} of it`,
    );
  if (r.cpu) {
    const [head, ...rest] = renderCpuBudget(r.cpu);
    lines.push(`  cpu:         ${head}`, ...rest.map((l) => `               ${l}`));
  }
  if (r.flood)
    lines.push(
      `  flood:       ${r.flood.account}: ${r.flood.messagesAccepted} messages in ${r.flood.floodSeconds} s; lag p99 flood ${r.flood.floodLagMs.p99} ms vs others ${r.flood.othersLagMs.p99} ms (others p50 ${r.flood.othersLagMs.p50} ms)`,
    );
  lines.push('');
  for (const v of pipelineVerdicts(r))
    lines.push(`  ${v.ok ? 'PASS' : 'MISS'}  ${v.name}: ${v.detail}`);
  return lines.join('\n');
}
