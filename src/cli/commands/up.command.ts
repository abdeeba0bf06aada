import { isatty } from 'node:tty';
import type { Command } from 'commander';
import { UP_SETTINGS } from '../../up/up-settings.js';
import { addSettings, contextFrom } from '../settings.js';
import { durationMs, wholeNumber } from '../flags.js';

interface UpFlags {
  demo?: boolean;
  dashboard: boolean;
  consumers: string;
  demoRate: string;
  demoDuration: string;
  frontendPort?: string;
  dispatcherPort?: string;
  statusInterval: string;
  readyTimeout: string;
  grace: string;
  logFile?: string;
}

export function registerUp(program: Command): void {
  const cmd = program
    .command('up')
    .description(
      'run every component on this machine (frontend, sync-cache, dispatch, maintain, consume x N, notify) as supervised child processes, for a demo or a small site',
    )
    .option(
      '--demo',
      'provision demo accounts D0000001..D0000005 with 2 gateways each and feed them demo traffic',
    )
    .option('--no-dashboard', 'print a status line every few seconds instead of the live dashboard')
    .option('--consumers <n>', 'consumer processes', '2')
    .option('--demo-rate <n>', 'demo traffic, requests per second (0: none)', '20')
    .option('--demo-duration <duration>', 'demo traffic stops after this', '1h')
    .option('--frontend-port <n>', 'frontend HTTP port [env INGEST_FRONTEND_PORT; default 8080]')
    .option(
      '--dispatcher-port <n>',
      'dispatcher HTTP port [env INGEST_DISPATCHER_PORT; default 8081]',
    )
    .option('--status-interval <duration>', 'status line interval without the dashboard', '5s')
    .option(
      '--ready-timeout <duration>',
      'how long to wait for the frontend and the dispatcher',
      '60s',
    )
    .option('--grace <duration>', 'how long components may drain on stop before SIGKILL', '15s')
    .option(
      '--log-file <path>',
      'combined log of every component [default: a new file under $TMPDIR/ingest-logs/]',
    );
  addSettings(cmd, UP_SETTINGS);
  cmd.addHelpText(
    'after',
    `
Runs \`ingest db migrate\` first; with --demo, provisions the demo site (idempotent: re-running is fine),
then starts the components, restarts one that dies (with backoff), and waits for the frontend's /ready
and the dispatcher's /health. Every component's log goes to one file (its path is printed). The dashboard
shows when stdout is a terminal; otherwise (or with --no-dashboard) a status line every --status-interval.
First Ctrl-C stops everything gracefully (SIGTERM, --grace, then SIGKILL); a second one kills at once.
Settings given here (--pg-url, --queue-prefix, ...) reach every component through their env variables.

Examples:
  $ ingest up --demo                         # what \`npm start\` runs
  $ ingest up --demo --no-dashboard --demo-rate 50 --demo-duration 10m
  $ ingest up --consumers 4 --frontend-port 18080 --dispatcher-port 18081
  $ INGEST_PG_URL=postgres://postgres@127.0.0.1:5432/site ingest up`,
  );
  cmd.action(async (flags: UpFlags) => {
    const { config } = await contextFrom(cmd);
    // isatty, not process.stdin.isTTY: touching process.stdin opens a TTY stream on fd 0 even
    // when no dashboard will read it.
    const interactive = isatty(1) && isatty(0);
    const options = {
      demo: flags.demo === true,
      dashboard: flags.dashboard && interactive,
      consumers: wholeNumber('consumers', flags.consumers, { min: 0 }),
      demoRate: wholeNumber('demo-rate', flags.demoRate, { min: 0 }),
      demoDurationMs: durationMs('demo-duration', flags.demoDuration),
      frontendPort: flags.frontendPort
        ? wholeNumber('frontend-port', flags.frontendPort)
        : config.frontendPort,
      dispatcherPort: flags.dispatcherPort
        ? wholeNumber('dispatcher-port', flags.dispatcherPort)
        : config.dispatcherPort,
      statusIntervalMs: durationMs('status-interval', flags.statusInterval),
      readyTimeoutMs: durationMs('ready-timeout', flags.readyTimeout),
      graceMs: durationMs('grace', flags.grace),
      logFile: flags.logFile,
    };
    // Loaded on demand: the supervisor, ink and React stay out of `--help`.
    const { runUp } = await import('../../up/up.js');
    await runUp(options, {
      config,
      out: (line) => process.stdout.write(`${line}\n`),
      err: (line) => process.stderr.write(`${line}\n`),
    });
  });
}
