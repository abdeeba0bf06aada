import type { Command } from 'commander';
import { parseDuration } from '../../core/duration.js';
import { IngestError } from '../../core/errors.js';
import { runFrontendLoadtest } from '../../loadtest/frontend-loadtest.js';
import { reportFailed, renderFrontendReport } from '../../loadtest/frontend-report.js';
import { SWEEP_SIZES } from '../../loadtest/baselines.js';
import { addSettings, contextFrom } from '../settings.js';
import { printJson } from '../output.js';

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

function positiveInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new IngestError('VALIDATION', `--${name} must be a whole number >= 1, got "${v}"`);
  return n;
}

export function registerLoadtestFrontend(group: Command): void {
  const cmd = group
    .command('frontend')
    .description(
      'POST batches of realistic readings to a frontend with autocannon, measure the raw RabbitMQ confirm ceiling in the same run, and check that the queue grew by exactly what was acknowledged',
    )
    .option('--readings <n>', 'readings per request', '3000')
    .option('--connections <n>', 'concurrent keep-alive connections', '1')
    .option('--duration <duration>', 'how long each size runs', '10s')
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
    .option('--no-raw', 'skip the raw broker ceiling')
    .option('--json', 'print the report as JSON')
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
LOADTEST and a fresh gateway are provisioned in the configured database, and the
gateway is disabled afterwards. Exits 1 if any 2xx was answered for a message
that is not in the queue.`,
    );
  addSettings(cmd, ['pgUrl', 'redisUrl', 'amqpUrl', 'queueType']).action(async (flags: Flags) => {
    const { config, logger } = contextFrom(cmd);
    const readings = positiveInt('readings', flags.readings)!;
    const report = await runFrontendLoadtest({
      config,
      logger,
      sizes: flags.sweep ? SWEEP_SIZES : [readings],
      connections: positiveInt('connections', flags.connections)!,
      durationMs: parseDuration(flags.duration),
      requests: positiveInt('requests', flags.requests),
      url: flags.url,
      workers: positiveInt('workers', flags.workers),
      skipRaw: !flags.raw,
      onProgress: flags.json ? undefined : (line) => process.stderr.write(`… ${line}\n`),
    });
    if (flags.json) printJson(report);
    else process.stdout.write(`${renderFrontendReport(report)}\n`);
    if (reportFailed(report)) process.exitCode = 1;
  });
}
