import type { Command } from 'commander';
import { interruptible } from '../interruptible.js';
import { IngestError } from '../../core/errors.js';
import { addSettings, contextFrom } from '../settings.js';
import { durationMs, oneOf, wholeNumber as whole } from '../flags.js';
import { addReportFlags, printReport, progressLines } from '../report.js';
import {
  defaultJitWarmup,
  defaultWarmup,
  JIT_WARMUP_MAX,
  JIT_WARMUP_READINGS,
} from '../../loadtest/pipeline-warmup.js';

interface Flags {
  readings: string;
  accounts: string;
  perRequest: string;
  connections: string;
  consumers: string;
  batch: string;
  prefetch: string;
  writers: string;
  flood?: string;
  floodSize: string;
  floodVia: string;
  tricklePause: string;
  timeout: string;
  ceiling: string;
  warmup?: string;
  jitWarmup?: string;
  json?: boolean;
}

function parseFlood(v: string | undefined): { account: string; messages: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^([A-Za-z0-9][A-Za-z0-9_.-]*):(\d+)$/.exec(v);
  if (!m) throw new IngestError('VALIDATION', `--flood must look like D0000001:100000, got "${v}"`);
  return { account: m[1]!, messages: whole('flood', m[2]!) };
}

function floodVia(v: string): boolean {
  return oneOf('flood-via', v, ['http', 'queue'] as const) === 'queue';
}

export function registerLoadtestPipeline(group: Command): void {
  const cmd = group
    .command('pipeline')
    .description(
      'feed readings through a frontend with consumers running, wait until every accepted reading is a row, and report stored/duplicates, end-to-end values/s, lag p50/p99, the write-path ceiling, and where the CPU went during the run (Linux)',
    )
    .option('--readings <n>', 'readings to send (2 values each)', '200000')
    .option('--accounts <n>', 'accounts (one gateway each), round-robin', '200')
    .option('--per-request <n>', 'readings per request', '500')
    .option(
      '--connections <n>',
      'concurrent keep-alive HTTP connections (gateways sending at once)',
      '16',
    )
    .option(
      '--consumers <n>',
      "queues drained at once (consumer concurrency; their messages share the writers' transactions)",
      '96',
    )
    .option('--batch <n>', 'messages per queue lease', '500')
    .option(
      '--prefetch <n>',
      'largest consumer prefetch window (sized to ~8 MB per queue, 256 MB in all)',
      '1000',
    )
    .option('--writers <n>', 'consumer storage transactions at once (group commit)', '3')
    .option('--flood <account:messages>', 'one account floods with this many messages meanwhile')
    .option('--flood-size <n>', 'readings per flood message', '1')
    .option(
      '--flood-via <how>',
      'http: the flood goes through the frontend; queue: published straight to the account queue (a real backlog, fast)',
      'http',
    )
    .option(
      '--trickle-pause <duration>',
      'pause between trickle requests per connection while flooding',
      '50ms',
    )
    .option('--timeout <duration>', 'give up after this long', '5m')
    .option('--ceiling <n>', 'values for the raw write-path ceiling (0 skips it)', '200000')
    .option(
      '--warmup <n>',
      'requests fed through the pipeline and stored before the clock starts (default: one per account, at most as many as the run sends; 0: none)',
    )
    .option(
      '--jit-warmup <n>',
      `small requests (${JIT_WARMUP_READINGS} readings each) fed and stored before the warm-up, so the code the run measures is already compiled: V8 optimizes a function only after some thousands of calls (default: 25 per request of the run, at most ${JIT_WARMUP_MAX}; 0: none)`,
    )
    .addHelpText(
      'after',
      `
Examples:
  ingest loadtest pipeline
  ingest loadtest pipeline --readings 200000 --accounts 200 --json
  ingest loadtest pipeline --readings 20000 --accounts 50 --per-request 100 --flood D0000001:20000 --trickle-pause 200ms
  ingest loadtest pipeline --readings 20000 --accounts 50 --per-request 100 --flood D0000001:100000 --flood-via queue --trickle-pause 300ms

Everything runs on this machine in a throwaway sandbox: its own PostgreSQL
database, Redis prefix and RabbitMQ queue prefix, created and dropped by the run
(a demo's data is never touched). The frontend, dispatcher, maintainer and
consumers run in this process. A warm-up (--warmup requests, one per account by
default) goes through the whole pipeline before the clock starts, after
--jit-warmup small requests that get the code compiled; their rows count in
the exactly-once check but not in the figures. Lag is receipt at the
frontend (x-received-at) to the commit of the row. With --flood, the flood's
queue depth is sampled while feeding: if it never piles up (an HTTP flood often
does not), flood isolation was not tested and shows SKIP; --flood-via queue
builds a real backlog. Exits 1 when a value is missing or duplicated.`,
    );
  addReportFlags(cmd);
  addSettings(cmd, ['pgUrl', 'redisUrl', 'amqpUrl', 'queueType']).action(async (f: Flags) => {
    const { config, logger } = await contextFrom(cmd, 'ingest loadtest pipeline');
    const flood = parseFlood(f.flood);
    const options = {
      config,
      logger,
      readings: whole('readings', f.readings),
      accounts: whole('accounts', f.accounts),
      readingsPerRequest: whole('per-request', f.perRequest),
      connections: whole('connections', f.connections),
      consumers: whole('consumers', f.consumers),
      batch: whole('batch', f.batch),
      prefetch: whole('prefetch', f.prefetch),
      writers: whole('writers', f.writers),
      flood: flood && {
        ...flood,
        readingsPerMessage: whole('flood-size', f.floodSize),
        direct: floodVia(f.floodVia),
      },
      tricklePauseMs: durationMs('trickle-pause', f.tricklePause),
      timeoutMs: durationMs('timeout', f.timeout),
      ceilingRows: whole('ceiling', f.ceiling, { min: 0 }),
      warmupRequests: 0,
      jitWarmupRequests: 0,
      onProgress: progressLines(f.json),
    };
    // The flags above are parsed once; the default warm-up follows from them.
    options.warmupRequests =
      f.warmup === undefined
        ? defaultWarmup(options.accounts, options.readings, options.readingsPerRequest)
        : whole('warmup', f.warmup, { min: 0 });
    options.jitWarmupRequests =
      f.jitWarmup === undefined
        ? defaultJitWarmup(options.readings, options.readingsPerRequest)
        : whole('jit-warmup', f.jitWarmup, { min: 0 });
    const { runPipelineLoadtest } = await import('../../loadtest/pipeline-loadtest.js');
    const report = await interruptible('load test', (signal) =>
      runPipelineLoadtest({ ...options, signal }),
    );
    const { pipelineFailed, renderPipelineReport } =
      await import('../../loadtest/pipeline-report.js');
    printReport(report, f.json, renderPipelineReport, pipelineFailed);
  });
}
