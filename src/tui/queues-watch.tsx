/** `ingest queues --watch`: mounts the live queues table until q. */
import { render } from 'ink';
import type { Config } from '../core/config.js';
import { createQueuesSampler, type QueueSort } from '../admin/queues-status.js';
import { QueuesWatchScreen } from './queues-watch-screen.js';

export interface QueuesWatchOptions {
  config: Pick<
    Config,
    'dispatcherUrl' | 'adminToken' | 'managementUrl' | 'amqpUrl' | 'queuePrefix'
  >;
  intervalMs?: number;
  sort?: QueueSort;
  filter?: string | undefined;
  noManagement?: boolean;
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
}

export async function runQueuesWatch(opts: QueuesWatchOptions): Promise<void> {
  const sampler = createQueuesSampler({
    config: opts.config,
    ...(opts.noManagement ? { noManagement: true } : {}),
  });
  let quit!: () => void;
  const quitted = new Promise<void>((resolve) => (quit = resolve));
  const app = render(
    <QueuesWatchScreen
      sample={() => sampler.sample()}
      intervalMs={opts.intervalMs ?? 1_000}
      sort={opts.sort ?? 'depth'}
      filter={opts.filter}
      onQuit={() => quit()}
    />,
    {
      exitOnCtrlC: false,
      patchConsole: false,
      ...(opts.stdout ? { stdout: opts.stdout } : {}),
      ...(opts.stdin ? { stdin: opts.stdin } : {}),
    },
  );
  try {
    await Promise.race([quitted, app.waitUntilExit()]);
  } finally {
    app.unmount();
    sampler.close();
  }
}
