import type { Command } from 'commander';
import { interruptible } from '../interruptible.js';
import { IngestError } from '../../core/errors.js';
import { addSettings, contextFrom } from '../settings.js';
import { durationMs, oneOf, wholeNumber } from '../flags.js';
import { addReportFlags, printReport, progressLines } from '../report.js';

interface Flags {
  consumers: string;
  queues: string;
  duration: string;
  url?: string;
  raw: boolean;
  release: string;
  json?: boolean;
}

function counts(v: string): number[] {
  const out = v.split(',').map((s) => Number(s.trim()));
  if (out.length === 0 || out.some((n) => !Number.isInteger(n) || n < 1 || n > 256))
    throw new IngestError(
      'VALIDATION',
      `--consumers must be a list like 1,2,4,12 (each 1..256), got "${v}"`,
    );
  return out;
}

export function registerLoadtestDispatcher(group: Command): void {
  const cmd = group
    .command('dispatcher')
    .description(
      'simulated consumers loop next -> release against a dispatcher over keep-alive HTTP; latency per consumer count beside the original figures, the raw PostgreSQL ceiling in the same run, and a check that no queue was ever held twice',
    )
    .option('--consumers <list>', 'consumer counts to run, one after the other', '1,2,4,6,8,10,12')
    .option('--queues <n>', 'queues in the throwaway registry', '2000')
    .option(
      '--duration <duration>',
      'how long each consumer count runs (and its raw ceiling)',
      '10s',
    )
    .option(
      '--url <url>',
      'a running dispatcher (default: start `ingest dispatch` on a free port with a throwaway database)',
    )
    .option(
      '--release <mode>',
      'combined: the release rides on the next POST /queue/next (as ingest consume does); separate: POST /queue/:id/release then POST /queue/next',
      'combined',
    )
    .addHelpText(
      'after',
      `
Examples:
  ingest loadtest dispatcher
  ingest loadtest dispatcher --consumers 12 --duration 20s
  ingest loadtest dispatcher --consumers 1,4,12 --queues 500 --json
  ingest loadtest dispatcher --consumers 12 --release separate
  ingest loadtest dispatcher --url http://127.0.0.1:8081 --consumers 4 --duration 5s

Without --url, a database ingest_ltdisp_* with --queues queues is created,
\`ingest dispatch\` runs against it as a child process, and the database is
dropped at the end. With --url the simulated consumers claim and release the
running dispatcher's real queues (without holding them); the raw ceiling still
runs in a throwaway database. Takes about 2 x --duration per consumer count.
Exits 1 if a queue was ever held twice or a request failed.`,
    );
  addReportFlags(cmd, 'PostgreSQL');
  addSettings(cmd, ['pgUrl', 'redisUrl', 'strategy']).action(async (flags: Flags) => {
    const { config, logger } = await contextFrom(cmd, 'ingest loadtest dispatcher');
    const consumers = counts(flags.consumers);
    const queues = wholeNumber('queues', flags.queues, { max: 1_000_000 });
    const mode = oneOf('release', flags.release, ['combined', 'separate'] as const);
    const duration = durationMs('duration', flags.duration, {
      minMs: 200,
      maxMs: 600_000,
      hint: 'between 200ms and 10m',
    });
    const { runDispatcherLoadtest } = await import('../../loadtest/dispatcher-loadtest.js');
    const report = await interruptible('load test', (signal) =>
      runDispatcherLoadtest({
        signal,
        config,
        logger,
        consumers,
        queues,
        durationMs: duration,
        url: flags.url,
        skipRaw: !flags.raw,
        mode,
        onProgress: progressLines(flags.json),
      }),
    );
    const { dispatcherReportFailed, renderDispatcherReport } =
      await import('../../loadtest/dispatcher-report.js');
    printReport(report, flags.json, renderDispatcherReport, dispatcherReportFailed);
  });
}
