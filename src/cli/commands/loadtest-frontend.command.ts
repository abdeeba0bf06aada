import type { Command } from 'commander';
import { interruptible } from '../interruptible.js';
import { addSettings, contextFrom } from '../settings.js';
import { durationMs, optionalWholeNumber, wholeNumber } from '../flags.js';
import { addReportFlags, printReport, progressLines } from '../report.js';

interface Flags {
  readings: string;
  connections: string;
  duration: string;
  requests?: string;
  sweep?: boolean;
  json?: boolean;
  url?: string;
  workers?: string;
  raw: boolean;
}

export function registerLoadtestFrontend(group: Command): void {
  const cmd = group
    .command('frontend')
    .description(
      'POST batches of realistic readings to a frontend with autocannon, measure the raw RabbitMQ confirm ceiling in the same run, and check that the queue grew by exactly what was acknowledged',
    )
    .option('--readings <n>', 'readings per request', '3000')
    .option('--connections <n>', 'concurrent keep-alive connections', '1')
    .option(
      '--duration <duration>',
      'how long each size runs (a 1 s warm-up sizes an exact request count to it)',
      '10s',
    )
    .option(
      '--requests <n>',
      'send exactly this many requests per size instead of running for --duration',
    )
    .option(
      '--sweep',
      'run 50, 100, 300, 500, 1000, 2000, 3000 readings per request beside the original figures',
    )
    .option(
      '--url <url>',
      'a running frontend (default: start one in a throwaway sandbox database/prefix)',
    )
    .option('--workers <n>', 'frontend processes when the load test starts its own')
    .addHelpText(
      'after',
      `
Examples:
  ingest loadtest frontend --readings 3000
  ingest loadtest frontend --readings 3000 --connections 10 --duration 20s
  ingest loadtest frontend --sweep --duration 5s
  ingest loadtest frontend --url http://127.0.0.1:8080 --requests 200

Without --url the frontend runs as a child process against its own database,
Redis prefix and queue prefix, dropped afterwards. With --url a test account
LOADTEST and a fresh gateway are provisioned in the configured database; afterwards
the gateway is disabled and the LOADTEST queue purged (readings the site's
consumers stored meanwhile have source keys LT:...). Exits 1 if any 2xx was
answered for a message that is not in the queue.`,
    );
  addReportFlags(cmd, 'broker');
  addSettings(cmd, ['pgUrl', 'redisUrl', 'amqpUrl', 'queueType']).action(async (flags: Flags) => {
    const { config, logger } = await contextFrom(cmd);
    const readings = wholeNumber('readings', flags.readings);
    const connections = wholeNumber('connections', flags.connections);
    const duration = durationMs('duration', flags.duration);
    const requests = optionalWholeNumber('requests', flags.requests);
    const workers = optionalWholeNumber('workers', flags.workers);
    const { runFrontendLoadtest } = await import('../../loadtest/frontend-loadtest.js');
    const { SWEEP_SIZES } = await import('../../loadtest/baselines.js');
    const report = await interruptible('load test', (signal) =>
      runFrontendLoadtest({
        signal,
        config,
        logger,
        sizes: flags.sweep ? SWEEP_SIZES : [readings],
        connections,
        durationMs: duration,
        requests,
        url: flags.url,
        workers,
        skipRaw: !flags.raw,
        onProgress: progressLines(flags.json),
      }),
    );
    const { reportFailed, renderFrontendReport } =
      await import('../../loadtest/frontend-report.js');
    printReport(report, flags.json, renderFrontendReport, reportFailed);
  });
}
