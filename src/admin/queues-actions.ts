/**
 * Operator actions over the dispatcher's HTTP API (`ingest queues pause|unpause`,
 * `ingest dispatcher stop|start|status`), with errors an operator can act on.
 */
import type { Config } from '../core/config.js';
import { IngestError, isIngestError } from '../core/errors.js';
import {
  createDispatcherClient,
  type DispatcherClient,
  type DispatcherStatus,
  type QueueStatusResponse,
} from '../dispatcher/client.js';

export type QueueAction = 'pause' | 'unpause';
export type DispatcherAction = 'stop' | 'start';

function explain(err: unknown, client: DispatcherClient, what: string): unknown {
  if (!isIngestError(err)) return err;
  switch (err.code) {
    case 'ADMIN_REQUIRED':
      return new IngestError(
        'ADMIN_REQUIRED',
        `the dispatcher at ${client.url} refused ${what}: ${err.message}; pass its token with --admin-token or INGEST_ADMIN_TOKEN`,
        { cause: err },
      );
    case 'FORBIDDEN':
      return new IngestError(
        'FORBIDDEN',
        `the dispatcher at ${client.url} refused ${what}: ${err.message}`,
        { cause: err },
      );
    default:
      return err;
  }
}

async function withClient<T>(
  config: Pick<Config, 'dispatcherUrl' | 'adminToken'>,
  what: string,
  fn: (c: DispatcherClient) => Promise<T>,
): Promise<T> {
  const client = createDispatcherClient({
    url: config.dispatcherUrl,
    adminToken: config.adminToken,
    timeoutMs: 5_000,
    maxSockets: 1,
  });
  try {
    return await fn(client);
  } catch (err) {
    throw explain(err, client, what);
  } finally {
    client.close();
  }
}

/** Pause or unpause one queue; NOT_FOUND names the id. Returns the queue's state after. */
export async function setQueuePaused(
  config: Pick<Config, 'dispatcherUrl' | 'adminToken'>,
  id: string,
  action: QueueAction,
): Promise<{ id: string; state: string }> {
  return withClient(config, `${action} ${id}`, async (c) => {
    try {
      await c[action](id);
    } catch (err) {
      if (isIngestError(err, 'NOT_FOUND'))
        throw new IngestError(
          'NOT_FOUND',
          `unknown queue "${id}" (ingest queues lists the queues the dispatcher at ${c.url} knows)`,
        );
      throw err;
    }
    const status = await c.status();
    return { id, state: status.queues.find((q) => q.id === id)?.state ?? 'unknown' };
  });
}

export async function setDispatcherRunning(
  config: Pick<Config, 'dispatcherUrl' | 'adminToken'>,
  action: DispatcherAction,
): Promise<DispatcherStatus> {
  return withClient(config, action, async (c) => {
    await c[action]();
    return (await c.status()).dispatcher;
  });
}

export async function dispatcherStatus(
  config: Pick<Config, 'dispatcherUrl' | 'adminToken'>,
): Promise<{ url: string; status: QueueStatusResponse }> {
  return withClient(config, 'status', async (c) => ({ url: c.url, status: await c.status() }));
}
