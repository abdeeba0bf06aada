/**
 * `ingest up`: the whole pipeline on one machine. Migrates, optionally
 * provisions a demo site, runs every component as a supervised child process,
 * waits until the frontend is ready and the dispatcher healthy, optionally
 * feeds demo traffic, and shows the dashboard (or a status line every few
 * seconds without a terminal). First Ctrl-C stops everything gracefully, a
 * second one kills at once.
 */
import { INGEST_BIN } from '../loadtest/ingest-process.js';
import { createPipelinePoller } from '../admin/pipeline-status.js';
import { createScraper } from '../admin/metrics-http.js';
import { SETTINGS, type Config, type SettingKey } from '../core/config.js';
import { IngestError } from '../core/errors.js';
import { sleep } from '../core/lifecycle.js';
import { startDashboard, type RunningDashboard } from '../tui/dashboard.js';
import { fmtAge } from '../tui/format.js';
import { demoFleet } from './demo-fleet.js';
import { createDemoTraffic, type DemoTraffic } from './demo-traffic.js';
import { createLogFile, defaultLogPath } from './log-file.js';
import { isPortFree, portOwner } from './ports.js';
import { migrateSchema, provisionDemo } from './provision.js';
import { formatDemo, formatStatusLine } from './status-line.js';
import { createSupervisor, type ChildSpec, type SupervisorEvent } from './supervisor.js';
import { UP_SETTINGS } from './up-settings.js';

export interface UpOptions {
  demo: boolean;
  dashboard: boolean;
  consumers: number;
  demoRate: number;
  demoDurationMs: number;
  frontendPort: number;
  dispatcherPort: number;
  statusIntervalMs: number;
  readyTimeoutMs: number;
  graceMs: number;
  logFile?: string | undefined;
}

export interface UpContext {
  config: Config;
  /** Where progress lines go (stdout). */
  out(line: string): void;
  /** Where problems go (stderr). */
  err(line: string): void;
}

/** Settings every child must share with `up` (flags given to `up` reach them through env). */
const SHARED: readonly SettingKey[] = [...UP_SETTINGS, 'logLevel'];

export function childEnv(
  config: Config,
  urls: { frontendPort: number; dispatcherPort: number },
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const key of SHARED) {
    const v = config[key];
    if (v !== undefined) env[SETTINGS[key].env] = String(v);
  }
  const host = loopbackOf(config.host);
  env.INGEST_FRONTEND_PORT = String(urls.frontendPort);
  env.INGEST_DISPATCHER_PORT = String(urls.dispatcherPort);
  env.INGEST_FRONTEND_URL = `http://${host}:${urls.frontendPort}`;
  env.INGEST_DISPATCHER_URL = `http://${host}:${urls.dispatcherPort}`;
  // The combined log file holds JSON lines, whatever the terminal is.
  env.INGEST_LOG_FORMAT = 'json';
  return env;
}

function loopbackOf(host: string): string {
  return host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
}

export function childSpecs(
  opts: Pick<UpOptions, 'consumers' | 'frontendPort' | 'dispatcherPort'>,
): ChildSpec[] {
  const specs: ChildSpec[] = [
    // The services the others call stop last: consumers give their queues back on the way out.
    { name: 'sync-cache', args: ['sync-cache'], stopLast: true },
    {
      name: 'dispatch',
      args: ['dispatch', '--port', String(opts.dispatcherPort)],
      stopLast: true,
    },
    { name: 'maintain', args: ['maintain'], stopLast: true },
    { name: 'frontend', args: ['serve-frontend', '--port', String(opts.frontendPort)] },
  ];
  for (let i = 1; i <= opts.consumers; i++) specs.push({ name: `consume-${i}`, args: ['consume'] });
  specs.push({ name: 'notify', args: ['notify'] });
  return specs;
}

async function checkPorts(host: string, ports: Array<[string, number, string]>): Promise<void> {
  for (const [what, port, flag] of ports) {
    if (await isPortFree(port, host)) continue;
    const owner = await portOwner(port);
    throw new IngestError(
      'CONFLICT',
      `port ${port} (${what}) on ${host} is already in use${owner ? ` by ${owner}` : ''}. ` +
        `Stop that process, or pick other ports, e.g. \`ingest up ${flag} ${port + 10_000 <= 65_535 ? port + 10_000 : port - 10_000}\` ` +
        `(--frontend-port and --dispatcher-port; env INGEST_FRONTEND_PORT / INGEST_DISPATCHER_PORT).`,
    );
  }
}

async function waitReady(
  urls: { frontend: string; dispatcher: string },
  timeoutMs: number,
  stopped: () => boolean,
): Promise<{ frontend: boolean; dispatcher: boolean }> {
  const scraper = createScraper({ timeoutMs: 1_000 });
  const state = { frontend: false, dispatcher: false };
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline && !stopped() && !(state.frontend && state.dispatcher)) {
      const [f, d] = await Promise.all([
        state.frontend
          ? 200
          : scraper.get(`${urls.frontend}/ready`).then(
              (r) => r.status,
              () => 0,
            ),
        state.dispatcher
          ? 200
          : scraper.get(`${urls.dispatcher}/health`).then(
              (r) => r.status,
              () => 0,
            ),
      ]);
      state.frontend = f === 200;
      state.dispatcher = d === 200;
      if (!(state.frontend && state.dispatcher)) await sleep(500);
    }
  } finally {
    scraper.close();
  }
  return state;
}

export async function runUp(opts: UpOptions, ctx: UpContext): Promise<void> {
  const { config } = ctx;
  await checkPorts(config.host, [
    ['frontend', opts.frontendPort, '--frontend-port'],
    ['dispatcher', opts.dispatcherPort, '--dispatcher-port'],
  ]);
  const env = childEnv(config, opts);
  const urls = { frontend: env.INGEST_FRONTEND_URL!, dispatcher: env.INGEST_DISPATCHER_URL! };
  const log = createLogFile(opts.logFile ?? defaultLogPath());
  ctx.out(`ingest up: logs of every component -> ${log.path}`);

  let stopRequests = 0;
  let requestStop!: () => void;
  const stopRequested = new Promise<void>((resolve) => (requestStop = resolve));
  const supervisor = createSupervisor({
    command: [process.execPath, INGEST_BIN],
    env,
    onLine: (name, line) => log.write(name, line),
    onEvent: (ev) => onEvent(ev),
  });
  let firstStopAt = 0;
  const onStop = (): void => {
    // One Ctrl-C can arrive twice (a tool signalling both the process and its group): a
    // second request within 300 ms is the same one, not an order to kill.
    if (stopRequests > 0 && Date.now() - firstStopAt < 300) return;
    stopRequests += 1;
    if (stopRequests === 1) {
      firstStopAt = Date.now();
      requestStop();
      return;
    }
    ctx.err('ingest up: second interrupt: killing every component now');
    supervisor.killNow();
    process.exit(130);
  };
  const onExit = (): void => supervisor.killNow();
  process.on('SIGINT', onStop);
  process.on('SIGTERM', onStop);
  process.on('SIGHUP', onStop);
  process.on('exit', onExit);

  let dashboard: RunningDashboard | undefined;
  function onEvent(ev: SupervisorEvent): void {
    const line =
      ev.type === 'spawn'
        ? `started ${ev.name} (pid ${ev.pid ?? '?'})`
        : ev.type === 'error'
          ? `${ev.name}: ${ev.message}`
          : `${ev.name} exited (${ev.signal ?? `code ${ev.code}`})` +
            (ev.restartInMs !== undefined ? `; restarting in ${fmtAge(ev.restartInMs)}` : '');
    log.write('up', line);
    if (!dashboard && (ev.type !== 'spawn' || stopRequests === 0)) ctx.err(`ingest up: ${line}`);
  }

  let traffic: DemoTraffic | undefined;
  const poller = createPipelinePoller({
    frontendUrl: urls.frontend,
    dispatcherUrl: urls.dispatcher,
    pgUrl: config.pgUrl,
  });
  let statusTimer: NodeJS.Timeout | undefined;
  try {
    ctx.out('ingest up: migrating the database…');
    ctx.out(`  ${(await migrateSchema(env)).split('\n').join('\n  ')}`);
    const fleet = demoFleet();
    if (opts.demo) {
      ctx.out(
        `ingest up: provisioning the demo site (${fleet.accounts.length} accounts, ${fleet.gateways.length} gateways)…`,
      );
      const r = await provisionDemo(fleet, env);
      ctx.out(
        `  added ${r.accountsAdded} account(s) and ${r.gatewaysAdded} gateway(s); the rest existed`,
      );
    }
    if (stopRequests > 0) return;
    // Consumers once the dispatcher answers (or the wait gives up): started with the rest,
    // they only log "dispatcher unreachable" and back off until it listens.
    const specs = childSpecs(opts);
    const isConsumer = (name: string): boolean => name.startsWith('consume-');
    supervisor.start(specs.filter((c) => !isConsumer(c.name)));
    ctx.out(`ingest up: waiting for ${urls.frontend}/ready and ${urls.dispatcher}/health…`);
    const t0 = Date.now();
    const ready = await waitReady(urls, opts.readyTimeoutMs, () => stopRequests > 0);
    if (stopRequests > 0) return;
    supervisor.start(specs.filter((c) => isConsumer(c.name)));
    if (ready.frontend && ready.dispatcher)
      ctx.out(`ingest up: ready after ${fmtAge(Date.now() - t0)}`);
    else
      ctx.err(
        `ingest up: not ready after ${fmtAge(opts.readyTimeoutMs)}: ${[!ready.frontend && 'frontend', !ready.dispatcher && 'dispatcher'].filter(Boolean).join(' and ')} not answering; still running, see ${log.path}`,
      );

    if (opts.demo) {
      const g = fleet.gateways[0]!;
      ctx.out(
        `ingest up: demo gateways ${fleet.gateways.map((x) => x.sourceKey).join(', ')}\n` +
          `  try: curl -s -XPOST '${urls.frontend}/readings?source_key=${g.sourceKey}&x-dexcell-source-token=${g.token}' ` +
          `-H 'content-type: application/json' -d '[{"did":"9","values":[{"p":402,"v":1.5}],"ts":"${new Date().toISOString().replace('Z', '+00:00')}"}]'`,
      );
      if (opts.demoRate > 0) {
        traffic = createDemoTraffic({
          frontendUrl: urls.frontend,
          gateways: fleet.gateways,
          ratePerSec: opts.demoRate,
          durationMs: opts.demoDurationMs,
        });
        traffic.start();
        ctx.out(
          `ingest up: demo traffic ${opts.demoRate} requests/s for ${fmtAge(opts.demoDurationMs)}`,
        );
      }
    }

    if (opts.dashboard) {
      // A clean screen: the startup lines above stay in the log file and the scrollback.
      process.stdout.write('\u001b[2J\u001b[H');
      dashboard = startDashboard({
        frontendUrl: urls.frontend,
        dispatcherUrl: urls.dispatcher,
        pgUrl: config.pgUrl,
        intervalMs: 1_000,
        title: 'ingest up',
        extras: () => ({
          processes: supervisor.list(),
          ...(traffic ? { demo: formatDemo(traffic.stats()) } : {}),
          note: `logs: ${log.path} · q or Ctrl-C stops everything`,
        }),
      });
      void dashboard.done.then(onStop);
    } else {
      ctx.out(
        `ingest up: running; Ctrl-C stops everything. Status every ${fmtAge(opts.statusIntervalMs)}:`,
      );
      const print = async (): Promise<void> => {
        const snap = await poller.sample();
        // A sample still in flight when the stop began must not schedule another one.
        if (stopRequests > 0) return;
        ctx.out(formatStatusLine(snap, supervisor.list(), traffic?.stats()));
        statusTimer = setTimeout(() => void print(), opts.statusIntervalMs);
      };
      void print();
    }
    await stopRequested;
  } finally {
    if (statusTimer) clearTimeout(statusTimer);
    await dashboard?.stop();
    dashboard = undefined;
    await traffic?.stop();
    if (supervisor.list().length > 0) {
      ctx.out('ingest up: stopping every component (Ctrl-C again to kill at once)…');
      const { killed } = await supervisor.stop(opts.graceMs);
      ctx.out(
        killed.length
          ? `ingest up: killed after ${fmtAge(opts.graceMs)}: ${killed.join(', ')}`
          : 'ingest up: every component stopped',
      );
    }
    if (traffic) ctx.out(`ingest up: demo traffic ${formatDemo(traffic.stats(), true)}`);
    await poller.close();
    await log.close();
    process.off('SIGINT', onStop);
    process.off('SIGTERM', onStop);
    process.off('SIGHUP', onStop);
    process.off('exit', onExit);
  }
}
