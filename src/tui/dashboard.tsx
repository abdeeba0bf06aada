/** `ingest dashboard`: mount the dashboard screen until q (or the caller's signal) ends it. */
import { render } from 'ink';
import { createPipelinePoller, type PipelinePollerOptions } from '../admin/pipeline-status.js';
import { DashboardScreen, type DashboardExtras } from './dashboard-screen.js';

export interface DashboardOptions extends PipelinePollerOptions {
  intervalMs: number;
  title?: string;
  extras?: () => DashboardExtras;
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
}

export interface RunningDashboard {
  /** Resolves when the user quits (q, Ctrl-C) or stop() is called. */
  done: Promise<void>;
  stop(): Promise<void>;
}

export function startDashboard(opts: DashboardOptions): RunningDashboard {
  const poller = createPipelinePoller(opts);
  let quit!: () => void;
  const quitted = new Promise<void>((resolve) => (quit = resolve));
  const app = render(
    <DashboardScreen
      sample={() => poller.sample()}
      intervalMs={opts.intervalMs}
      onQuit={() => quit()}
      {...(opts.title ? { title: opts.title } : {})}
      {...(opts.extras ? { extras: opts.extras } : {})}
    />,
    {
      exitOnCtrlC: false,
      patchConsole: false,
      ...(opts.stdout ? { stdout: opts.stdout } : {}),
      ...(opts.stdin ? { stdin: opts.stdin } : {}),
    },
  );
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      app.unmount();
      await poller.close();
    })();
    return stopping;
  };
  const done = Promise.race([quitted, app.waitUntilExit().then(() => undefined)]).then(stop);
  return { done, stop };
}

export async function runDashboard(opts: DashboardOptions): Promise<void> {
  const dash = startDashboard(opts);
  await dash.done;
}
