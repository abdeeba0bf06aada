/** The pipeline load test's report for people, and its pass/fail verdicts. */
import type { PipelineReport } from './pipeline-loadtest.js';
import { renderCpuBudget } from './cpu-budget.js';

export const PIPELINE_TARGETS = {
  valuesPerSec: 50_000,
  ratioOfCeiling: 0.7,
  othersLagP99Ms: 5_000,
} as const;

/**
 * A flood tests isolation only if its queue piled up: at least this many ready
 * messages at once, and at least this share of the flood.
 */
export const FLOOD_BACKLOG = { minMessages: 10, minShareOfFlood: 0.01 } as const;

export interface Verdict {
  name: string;
  /** Passed. False for a skipped verdict too: it was not tested, so it did not pass. */
  ok: boolean;
  detail: string;
  /** Not exercised by this run (shown as SKIP, never fails the run). */
  skipped?: boolean;
}

export function verdictMark(v: Verdict): 'PASS' | 'MISS' | 'SKIP' {
  return v.skipped ? 'SKIP' : v.ok ? 'PASS' : 'MISS';
}

/** The least peak backlog that counts as a flood piling up, for a flood of `messages`. */
export function floodBacklogThreshold(messages: number): number {
  return Math.max(FLOOD_BACKLOG.minMessages, Math.ceil(messages * FLOOD_BACKLOG.minShareOfFlood));
}

type Flood = NonNullable<PipelineReport['flood']>;

/** Whether the flood's queue piled up enough to test isolation (undefined: never measured). */
export function floodPiledUp(f: Pick<Flood, 'messagesAccepted' | 'backlog'>): boolean | undefined {
  if (f.backlog.peak === undefined) return undefined;
  return f.backlog.peak >= floodBacklogThreshold(f.messagesAccepted);
}

function isolationVerdict(f: Flood): Verdict {
  const lags = `others' lag p99 ${f.othersLagMs.p99} ms vs flood's ${f.floodLagMs.p99} ms (target < ${PIPELINE_TARGETS.othersLagP99Ms} ms)`;
  const piled = floodPiledUp(f);
  if (piled === false)
    return {
      name: 'flood isolation',
      ok: false,
      skipped: true,
      detail: `not exercised: the flood's queue never piled up (peak backlog ${f.backlog.peak} messages, below ${floodBacklogThreshold(f.messagesAccepted)}); ${lags}`,
    };
  return {
    name: 'flood isolation',
    ok: f.othersLagMs.p99 < PIPELINE_TARGETS.othersLagP99Ms,
    detail: `${lags}${piled === undefined ? `; whether the flood piled up is unknown (its queue depth could not be read)` : `; the flood's queue held up to ${f.backlog.peak} messages`}`,
  };
}

export function pipelineVerdicts(r: PipelineReport): Verdict[] {
  const v: Verdict[] = [
    {
      name: 'exactly once',
      ok: r.duplicates === 0 && r.missing === 0 && !r.timedOut,
      detail: `stored ${r.stored} of ${r.accepted.values + (r.warmup?.values ?? 0)} accepted values${r.warmup ? ` (${r.warmup.values} of them in the warm-up)` : ''}, ${r.duplicates} duplicates, ${r.missing} missing${r.timedOut ? ' (timed out)' : ''}`,
    },
  ];
  if (r.flood) v.push(isolationVerdict(r.flood));
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

/** Only a lost or duplicated value fails the run (a missed or skipped target does not). */
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
          `  warm-up:     ${r.warmup.jitRequests > 0 ? `${r.warmup.jitRequests} small requests (JIT), then ` : ''}${r.warmup.requests} requests, ${r.warmup.values} values fed and stored in ${r.warmup.seconds} s before the clock started`,
        ]
      : []),
    `  stored:      ${r.stored} rows   duplicates: ${r.duplicates}   missing: ${r.missing}   redelivered values dropped: ${r.redeliveredValues}`,
    `  end to end:  ${r.valuesPerSec} values/s (${r.seconds} s from first request to last commit)`,
    `  frontend:    ${renderFrontend(r)}`,
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
  if (r.flood) lines.push(...renderFlood(r.flood));
  lines.push('');
  for (const v of pipelineVerdicts(r)) lines.push(`  ${verdictMark(v)}  ${v.name}: ${v.detail}`);
  return lines.join('\n');
}

/** What the frontend accepted, and which streams that counts. */
export function renderFrontend(r: Pick<PipelineReport, 'frontend' | 'flood'>): string {
  const f = r.frontend;
  const rate = `accepted ${f.valuesPerSec} values/s`;
  if (!r.flood) return `${rate} (feeding took ${f.seconds} s)`;
  const counts = `${f.requests} requests, ${f.values} values`;
  return f.streams === 'trickle+flood'
    ? `${rate}, trickle and flood (${counts}; feeding took ${f.seconds} s, first request to last answer of either)`
    : `${rate}, trickle only: the flood was published straight to its queue (${counts}; feeding took ${f.seconds} s)`;
}

/** The flood's line, and a note when it never piled up (so isolation was not tested). */
export function renderFlood(f: Flood): string[] {
  const peak =
    f.backlog.peak === undefined
      ? `peak backlog unknown (${f.backlog.failed} queue checks failed)`
      : `peak backlog ${f.backlog.peak} messages (ready, sampled every ${f.backlog.intervalMs} ms)`;
  const lines = [
    `  flood:       ${f.account} via ${f.via}: ${f.messagesAccepted} messages in ${f.floodSeconds} s; ${peak}; lag p99 flood ${f.floodLagMs.p99} ms vs others ${f.othersLagMs.p99} ms (others p50 ${f.othersLagMs.p50} ms)`,
  ];
  if (floodPiledUp(f) === false)
    lines.push(
      `  note:        the flood never piled up (peak backlog ${f.backlog.peak} of ${f.messagesAccepted} messages, below ${floodBacklogThreshold(f.messagesAccepted)}): the consumers kept up with it, so flood isolation was not exercised; ${f.via === 'http' ? 'rerun with --flood-via queue for a real backlog' : 'rerun with a larger --flood'}`,
    );
  return lines;
}
