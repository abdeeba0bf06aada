/**
 * Where `ingest loadtest frontend` sends its load: a frontend it starts itself
 * in a sandbox (default), or a running one given by --url. Either way a fresh
 * test gateway is provisioned through the real `ingest` commands.
 */
import { randomBytes } from 'node:crypto';
import { accountQueueName, type Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import { errorMessage } from '../core/errors.js';
import { configToEnv, createSandbox, SANDBOX_SETTINGS, type Sandbox } from './sandbox.js';
import {
  freePort,
  runIngest,
  startIngest,
  waitForHttp,
  type IngestDaemon,
} from './ingest-process.js';

export const LOADTEST_ACCOUNT = 'LOADTEST';

export interface FrontendTarget {
  url: string;
  sourceKey: string;
  token: string;
  queue: string;
  config: Config;
  /** Whether the frontend was started by the load test (so its figures are this machine's own). */
  started: boolean;
  close(): Promise<void>;
}

export async function prepareFrontendTarget(opts: {
  config: Config;
  logger: Logger;
  url?: string;
  workers?: number;
}): Promise<FrontendTarget> {
  const { logger } = opts;
  let sandbox: Sandbox | undefined;
  let daemon: IngestDaemon | undefined;
  const config = opts.url
    ? opts.config
    : (sandbox = await createSandbox(opts.config, 'loadtest', logger)).config;
  const env: Record<string, string> = {
    ...configToEnv(config, [...SANDBOX_SETTINGS, 'chunkReadings']),
    INGEST_LOG_LEVEL: 'warn',
    INGEST_LOG_FORMAT: 'json',
  };
  const queue = accountQueueName(config, LOADTEST_ACCOUNT);
  if (sandbox) sandbox.queues.add(queue);
  const sourceKey = `LT:${randomBytes(5).toString('hex').toUpperCase().match(/../g)!.join(':')}`;
  const token = randomBytes(24).toString('base64url');
  try {
    await runIngest(['accounts', 'add', LOADTEST_ACCOUNT, '--name', 'load tests'], env).catch(
      (err: unknown) => {
        // Re-running against a live site: the account is already there.
        if (!/exist/i.test(errorMessage(err))) throw err;
      },
    );
    await runIngest(
      ['gateways', 'add', sourceKey, '--account', LOADTEST_ACCOUNT, '--token', token],
      env,
    );
    await runIngest(['sync-cache', '--once'], env);
    let url = opts.url?.replace(/\/$/, '');
    if (!url) {
      const port = await freePort();
      const args = ['serve-frontend', '--port', String(port), '--host', '127.0.0.1'];
      if (opts.workers && opts.workers > 1) args.push('--workers', String(opts.workers));
      daemon = startIngest(args, env);
      url = `http://127.0.0.1:${port}`;
      await waitForHttp(`${url}/ready`, daemon, 30_000);
    }
    return {
      url,
      sourceKey,
      token,
      queue,
      config,
      started: daemon !== undefined,
      async close() {
        await daemon?.stop();
        if (!sandbox) {
          // On a live site, leave nothing that can send: disable the test gateway.
          await runIngest(['gateways', 'disable', sourceKey], env).catch((err: unknown) =>
            logger.warn({ err: errorMessage(err) }, 'could not disable the load-test gateway'),
          );
        }
        await sandbox?.cleanup();
      },
    };
  } catch (err) {
    await daemon?.stop();
    await sandbox?.cleanup();
    throw err;
  }
}
