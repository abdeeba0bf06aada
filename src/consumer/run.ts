/**
 * The consumer's composition root: connections, topology, storage, alerts,
 * dead letters, metrics and the loop, with every cleanup registered on the
 * lifecycle. Used by `ingest consume` and in-process by the pipeline load test.
 */
import { refuseOutdatedSchema } from '../adapters/postgres/migrate.js';
import { hostname } from 'node:os';
import type { Config } from '../core/config.js';
import { errorMessage } from '../core/errors.js';
import type { Lifecycle } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { accountQueueName } from '../core/config.js';
import { createPgPool } from '../adapters/postgres/pool.js';
import { createAmqpConnection } from '../adapters/rabbitmq/connection.js';
import { createConfirmPublisher } from '../adapters/rabbitmq/confirm-publisher.js';
import { createDispatcherClient } from '../dispatcher/client.js';
import { assertAlertsQueue } from '../alerts/alert-topology.js';
import { createAlertOutbox } from '../alerts/alert-outbox.js';
import { createRuleCache } from '../alerts/rule-cache.js';
import { assertDeadQueue } from '../deadletters/dead-letter-queues.js';
import { createDeadLetterSink } from '../deadletters/dead-letter-sink.js';
import { createBatchWriter, type StoredEvent } from './batch-writer.js';
import { createChannelPool } from './channel-pool.js';
import { createPrefetchWindow, windowForProcess } from './prefetch-window.js';
import { ONCE_GIVE_UP_MS, startConsumerLoop, type ConsumerLoop } from './consumer-loop.js';
import {
  createConsumerMetrics,
  startMetricsServer,
  type ConsumerMetrics,
} from './consumer-metrics.js';
import {
  DEFAULT_DRAIN,
  drainQueue,
  type DrainEvents,
  type DrainOptions,
  type DrainResult,
} from './queue-drainer.js';
import { createReadingsStore, type WritePath } from './readings-store.js';

/**
 * Sockets to the dispatcher for `concurrency` workers: each may hold a long-poll
 * (parked up to 2 s) while its lease renewal and another worker's give-back must
 * not queue behind it. With 64 sockets for 96 workers, a flooded queue's
 * give-back waited for a parked long-poll to end: 0.5-1.3 s between its leases.
 * Never fewer than the 64 every consumer had before.
 */
export function dispatcherSockets(concurrency: number): number {
  return Math.max(64, 2 * Math.max(1, concurrency) + 2);
}

export interface ConsumerRunOptions {
  concurrency: number;
  batch: number;
  once: boolean;
  prefetch?: number;
  sliceMs?: number;
  groupValues?: number;
  writePath?: WritePath;
  metricsPort?: number;
  name?: string;
  /** Transactions writing at once (group commit across leases; default 2). */
  writers?: number;
  /** Extra observers (the pipeline load test measures lag through these). */
  events?: DrainEvents;
  onStored?: (e: StoredEvent) => void;
  /** After every lease: what it drained (undefined when the drain failed). */
  onDrained?: (e: { account: string; result: DrainResult | undefined }) => void;
  /** With `once`: give up after the dispatcher failed this long (default ONCE_GIVE_UP_MS). */
  giveUpAfterMs?: number;
}

export interface ConsumerTotals {
  /** Messages stored (not counting ledger duplicates). */
  messages: number;
  /** Messages the ledger already had (resends, replays): acked, nothing written. */
  alreadyStored: number;
  /** Rows inserted. */
  values: number;
  /** Values offered that were already stored (replays, overlapping resends). */
  duplicateValues: number;
  deadLettered: number;
}

export interface ConsumerHandle {
  loop: ConsumerLoop;
  metrics: ConsumerMetrics;
  metricsUrl: string | undefined;
  /** What this process stored so far (the --once summary). */
  totals(): ConsumerTotals;
}

/** How long a worker's "next" waits at the dispatcher for a queue with messages (long-poll). */
export const NEXT_WAIT_MS = 2_000;

export async function runConsumer(
  ctx: { config: Config; logger: Logger; lifecycle: Lifecycle },
  opts: ConsumerRunOptions,
): Promise<ConsumerHandle> {
  const { config, logger, lifecycle } = ctx;
  const name = opts.name ?? `${hostname()}:${process.pid}`;
  const metrics = createConsumerMetrics();

  const pool = createPgPool(config.pgUrl, {
    max: (opts.writers ?? 2) + 3,
    application: 'ingest-consume',
  });
  lifecycle.defer('postgres pool', () => pool.end());
  await refuseOutdatedSchema(pool);
  const conn = createAmqpConnection({
    url: config.amqpUrl,
    logger,
    name: `ingest-consume ${name}`,
  });
  lifecycle.defer('rabbitmq connection', () => conn.close());
  await conn.addSetup(async (model) => {
    const ch = await model.createChannel();
    try {
      await assertDeadQueue(ch, config, 'readings');
      await assertAlertsQueue(ch, config);
    } finally {
      await ch.close().catch(() => undefined);
    }
  });
  await conn.ready();
  const publisher = createConfirmPublisher(conn, { channels: 2, logger });
  lifecycle.defer('publisher', () => publisher.close());

  const outbox = createAlertOutbox({ pool, publisher, config });
  const rules = createRuleCache({ pool });
  const store = createReadingsStore(opts.writePath ?? 'copy-ledger');
  const deadLetters = createDeadLetterSink({ publisher, config });
  const dispatcher = createDispatcherClient({
    url: config.dispatcherUrl,
    // A /queue/next that times out on our side may still have granted a lease we never
    // learn about, blocking that queue until the lease expires: wait longer than 5 s.
    timeoutMs: Math.min(30_000, Math.max(5_000, Math.floor(config.leaseTimeout / 2))),
    maxSockets: dispatcherSockets(opts.concurrency),
    ...(config.adminToken ? { adminToken: config.adminToken } : {}),
  });
  lifecycle.defer('dispatcher client', () => dispatcher.close());

  const channels = createChannelPool(
    conn,
    Math.min(opts.prefetch ?? DEFAULT_DRAIN.prefetch, opts.batch),
  );
  lifecycle.defer('channels', () => channels.close());
  const window = createPrefetchWindow({
    maximum: opts.prefetch ?? 1_000,
    ...windowForProcess(opts.concurrency, DEFAULT_DRAIN.prefetch),
  });
  const drainOpts: DrainOptions = {
    ...DEFAULT_DRAIN,
    batch: opts.batch,
    ...(opts.prefetch ? { prefetch: opts.prefetch } : {}),
    ...(opts.sliceMs ? { sliceMs: opts.sliceMs } : {}),
    ...(opts.groupValues ? { groupValues: opts.groupValues } : {}),
  };
  const totals: ConsumerTotals = {
    messages: 0,
    alreadyStored: 0,
    values: 0,
    duplicateValues: 0,
    deadLettered: 0,
  };
  const onStored = (e: StoredEvent): void => {
    const stored = e.messages - e.skippedMessages;
    const duplicates = e.values - e.inserted;
    totals.messages += stored;
    totals.alreadyStored += e.skippedMessages;
    totals.values += e.inserted;
    totals.duplicateValues += duplicates;
    metrics.messages.inc({ outcome: 'stored' }, stored);
    if (e.skippedMessages) metrics.messages.inc({ outcome: 'duplicate' }, e.skippedMessages);
    metrics.values.inc({ outcome: 'inserted' }, e.inserted);
    if (duplicates > 0) metrics.values.inc({ outcome: 'duplicate' }, duplicates);
    for (const r of e.received) metrics.lagSeconds.observe((e.committedAt - r.receivedAt) / 1000);
    metrics.commitSeconds.observe(e.storeMs / 1000);
    if (e.notifications) metrics.notifications.inc(e.notifications);
    opts.onStored?.(e);
  };
  const writer = createBatchWriter(
    { pool, store, alerts: { rules, outbox }, logger, onStored },
    { maxValues: opts.groupValues ?? DEFAULT_DRAIN.groupValues, parallel: opts.writers ?? 2 },
  );
  const events: DrainEvents = {
    deadLettered(e) {
      totals.deadLettered += 1;
      metrics.messages.inc({ outcome: 'dead' });
      opts.events?.deadLettered?.(e);
    },
  };

  // Notifications whose publish was cut short by a crash or an outage: once at start (a
  // --once batch job may never live 15 s), then every 15 s; one sweep at a time, and the
  // one in flight finishes before the publisher closes.
  let sweeping: Promise<void> | undefined;
  let sweepFailing = false;
  const sweep = (): void => {
    sweeping ??= outbox
      .sweep(10_000)
      .then((n) => {
        if (n) logger.info({ notifications: n }, 'published left-over alert notifications');
        sweepFailing = false;
      })
      .catch((err: unknown) => {
        if (!sweepFailing)
          logger.warn({ err: errorMessage(err) }, 'alert outbox sweep failed; retrying in 15 s');
        sweepFailing = true;
      })
      .finally(() => (sweeping = undefined));
  };
  sweep();
  const sweeper = setInterval(sweep, 15_000);
  lifecycle.defer('outbox sweeper', async () => {
    clearInterval(sweeper);
    await sweeping;
  });

  let metricsUrl: string | undefined;
  if (opts.metricsPort) {
    const srv = await startMetricsServer(metrics.registry, config.host, opts.metricsPort);
    metricsUrl = srv.url;
    lifecycle.defer('metrics server', () => srv.close());
  }

  const loop = startConsumerLoop(
    {
      dispatcher,
      name,
      logger,
      onDispatcherState: (s) => metrics.setDispatcherState(s),
      ...(opts.onDrained ? { onDrained: opts.onDrained } : {}),
      drain: ({ account, signal }) =>
        drainQueue({ conn, channels, window, writer, deadLetters, logger, events }, drainOpts, {
          account,
          queue: accountQueueName(config, account),
          signal,
        }),
    },
    {
      concurrency: opts.concurrency,
      once: opts.once,
      renewEveryMs: Math.max(500, Math.floor(config.leaseTimeout / 3)),
      // --once exits when nothing is handed out: no waiting there.
      waitMs: opts.once ? 0 : NEXT_WAIT_MS,
      idlePollMs: 250,
      emptyPauseMs: 20,
      giveUpAfterMs: opts.giveUpAfterMs ?? ONCE_GIVE_UP_MS,
    },
  );
  // Registered last so it runs first: stop draining and release before connections close.
  lifecycle.defer('consumer loop', () => loop.stop());
  logger.info(
    {
      concurrency: opts.concurrency,
      batch: opts.batch,
      dispatcher: config.dispatcherUrl,
      metricsUrl,
    },
    'consumer started',
  );
  return { loop, metrics, metricsUrl, totals: () => ({ ...totals }) };
}
