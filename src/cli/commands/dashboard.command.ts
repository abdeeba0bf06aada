import type { Command } from 'commander';
import { IngestError } from '../../core/errors.js';
import { addSettings, contextFrom } from '../settings.js';
import { durationMs } from '../flags.js';

interface DashboardFlags {
  frontend?: string;
  interval: string;
  storage: boolean;
}

export function registerDashboard(program: Command): void {
  const cmd = program
    .command('dashboard')
    .description(
      'live terminal view of the whole pipeline: frontend rates and confirm latency, dispatcher, queues, stored rows/s, failed alert deliveries',
    )
    .option(
      '--frontend <url>',
      'frontend base URL [env INGEST_FRONTEND_URL; default http://127.0.0.1:8080]',
    )
    .option('--interval <duration>', 'refresh interval', '1s')
    .option('--no-storage', 'do not query PostgreSQL for stored rows/s and alert deliveries');
  addSettings(cmd, ['dispatcherUrl', 'pgUrl']);
  cmd.addHelpText(
    'after',
    `
Keys: q quits, p pauses/resumes refreshing. A component that does not answer is shown as DOWN.
Rates are computed between two samples (the first sample shows "-").

Examples:
  $ ingest dashboard
  $ ingest dashboard --frontend http://10.0.0.5:8080 --dispatcher http://10.0.0.5:8081 --interval 2s
  $ INGEST_PG_URL=postgres://postgres@db:5432/ingest ingest dashboard`,
  );
  cmd.action(async (flags: DashboardFlags) => {
    const { config } = await contextFrom(cmd);
    const intervalMs = durationMs('interval', flags.interval, {
      minMs: 100,
      hint: 'at least 100ms',
    });
    if (!process.stdout.isTTY || !process.stdin.isTTY)
      throw new IngestError(
        'VALIDATION',
        'the dashboard needs a terminal (stdin and stdout a TTY); for scripts use `ingest queues --json` or GET /metrics',
      );
    // Loaded on demand: ink and React stay out of every other command's start-up.
    const { runDashboard } = await import('../../tui/dashboard.js');
    await runDashboard({
      frontendUrl: flags.frontend ?? config.frontendUrl,
      dispatcherUrl: config.dispatcherUrl,
      ...(flags.storage ? { pgUrl: config.pgUrl } : {}),
      intervalMs,
    });
  });
}
