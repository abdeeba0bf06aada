/**
 * `ingest loadtest pipeline`: the whole pipeline on this machine, in a sandbox
 * (own database, Redis prefix, queue prefix; dropped at the end). Frontend,
 * dispatcher, maintainer and consumers run in this process; readings go in
 * through HTTP and the run waits until every accepted value is a row. The raw
 * ceiling of the consumer's write path is measured in the same sandbox before
 * and after the run (this machine's speed drifts by half within minutes; the
 * mean of the two is what the run is compared with). A warm-up (by default one
 * request per account) goes through the whole pipeline and is stored before the
 * clock starts, so the figures are those of a running pipeline, not of one
 * compiling its code and filling its caches; its rows count in the
 * exactly-once check.
 */
import { randomBytes } from 'node:crypto';
import { accountQueueName, type Config } from '../core/config.js';
import { errorMessage, isIngestError } from '../core/errors.js';
import { createLifecycle } from '../core/lifecycle.js';
import { createLogger, type Logger } from '../core/logger.js';
import { createPgPool } from '../adapters/postgres/pool.js';
import { createRedis } from '../adapters/redis/client.js';
import { createProvisioning } from '../provisioning/provisioning.js';
import { createCacheSync } from '../cache-sync/cache-sync.js';
import { createMaintainerFromConfig } from '../maintainer/run.js';
import { JIT_WARMUP_READINGS, runRequests } from './pipeline-warmup.js';
import { startDispatcherServer } from '../dispatcher/server.js';
import { startFrontendServer } from '../frontend/server.js';
import { runConsumer } from '../consumer/run.js';
import type { StoredEvent } from '../consumer/batch-writer.js';
import type { DrainResult } from '../consumer/queue-drainer.js';
import { deadQueueName } from '../deadletters/dead-letter-queues.js';
import { alertsQueueName } from '../alerts/alert-topology.js';
import { createSandbox } from './sandbox.js';
import {
  feed,
  frontendFigures,
  type FeedGateway,
  type FeedResult,
  type FrontendFigures,
} from './pipeline-feeder.js';
import {
  publishBacklog,
  watchBacklog,
  type BacklogPeak,
  type BacklogWatch,
} from './pipeline-backlog.js';
import { measureWriteCeiling, type CeilingResult } from './pipeline-write-ceiling.js';
import { round, summarize, type LatencySummary } from './stats.js';
import { throwIfInterrupted } from './interrupt.js';
import { startCpuBudget, type CpuBudget, type CpuBudgetMeter } from './cpu-budget.js';

export interface PipelineOptions {
  config: Config;
  logger: Logger;
  readings: number;
  accounts: number;
  readingsPerRequest: number;
  connections: number;
  consumers: number;
  batch: number;
  prefetch: number;
  writers: number;
  flood?:
    | {
        account: string;
        messages: number;
        readingsPerMessage: number;
        /** Publish the flood straight to its queue (a backlog) instead of through HTTP. */
        direct: boolean;
      }
    | undefined;
  /** Pause between trickle requests per connection while flooding. */
  tricklePauseMs: number;
  timeoutMs: number;
  ceilingRows: number;
  /** Requests fed and stored before the clock starts (0: none). */
  warmupRequests: number;
  /**
   * Small requests (JIT_WARMUP_READINGS readings each) fed and stored before those:
   * V8 optimizes a function only after some thousands of calls, so without them the
   * measured window pays for compiling the per-request and per-message code.
   */
  jitWarmupRequests?: number;
  onProgress?: ((line: string) => void) | undefined;
  /** Aborted: stop feeding, skip the waits, clean up the sandbox (the run then throws INTERRUPTED). */
  signal?: AbortSignal | undefined;
}

export interface PipelineReport {
  machine: { cpus: number; node: string; date: string };
  settings: Record<string, unknown>;
  accepted: {
    requests: number;
    readings: number;
    values: number;
    rejected: Record<string, number>;
  };
  /** Fed and stored before the clock started; part of `stored` and of the exactly-once check. */
  warmup:
    | {
        /** Full-size requests. */
        requests: number;
        /** Small requests fed first (JIT warm-up), JIT_WARMUP_READINGS readings each. */
        jitRequests: number;
        values: number;
        seconds: number;
      }
    | undefined;
  /** Every row in the readings table (warm-up included). */
  stored: number;
  duplicates: number;
  missing: number;
  redeliveredValues: number;
  seconds: number;
  valuesPerSec: number;
  /**
   * What the frontend accepted: the trickle, and the flood when it came through HTTP,
   * from the first request to the last answer of either stream.
   */
  frontend: FrontendFigures;
  /** The same as frontend.seconds and frontend.valuesPerSec. */
  feedSeconds: number;
  acceptedValuesPerSec: number;
  lagMs: LatencySummary;
  transactions: { count: number; meanValues: number; meanMs: number };
  /** Queue leases the consumers worked while the clock ran: with messages, and found empty. */
  leases: { withMessages: number; empty: number; messages: number };
  flood?: {
    account: string;
    messagesAccepted: number;
    floodLagMs: LatencySummary;
    othersLagMs: LatencySummary;
    floodSeconds: number;
    /** http: through the frontend; queue: published straight to the account's queue. */
    via: 'http' | 'queue';
    /** How far the flood's queue piled up (ready messages, sampled while feeding). */
    backlog: BacklogPeak;
  };
  /** The write-path ceiling, before and after the run, and their mean. */
  ceiling: { rowsPerSec: number; before: CeilingResult; after: CeilingResult } | undefined;
  ratioOfCeiling: number | undefined;
  /** Where the machine's CPU went from the first request to the last commit (Linux only). */
  cpu?: CpuBudget | undefined;
  /** Values/s while the pipeline ran full (from 10% to 90% of the rows committed). */
  sustainedValuesPerSec: number | undefined;
  sustainedRatioOfCeiling: number | undefined;
  timedOut: boolean;
}

class LagCollector {
  samples = new Map<string, number[]>();
  inserted = 0;
  offered = 0;
  lastCommit = 0;
  transactions = 0;
  storeMs = 0;
  /** Rows inserted by each commit, with its time. */
  commits: Array<{ at: number; inserted: number }> = [];
  leases = { withMessages: 0, empty: 0, messages: 0 };
  /** Forget everything so far (the warm-up). */
  reset(): void {
    this.leases = { withMessages: 0, empty: 0, messages: 0 };
    this.samples.clear();
    this.inserted = 0;
    this.offered = 0;
    this.lastCommit = 0;
    this.transactions = 0;
    this.storeMs = 0;
    this.commits = [];
  }
  drained(result: DrainResult | undefined): void {
    if (!result) return;
    if (result.messages > 0) {
      this.leases.withMessages += 1;
      this.leases.messages += result.messages;
    } else this.leases.empty += 1;
  }
  add(e: StoredEvent): void {
    this.commits.push({ at: e.committedAt, inserted: e.inserted });
    this.transactions += 1;
    this.storeMs += e.storeMs;
    this.inserted += e.inserted;
    this.offered += e.values;
    this.lastCommit = Math.max(this.lastCommit, e.committedAt);
    for (const r of e.received) {
      const list = this.samples.get(r.account) ?? [];
      list.push(e.committedAt - r.receivedAt);
      this.samples.set(r.account, list);
    }
  }
  /** Rows/s between the commits that crossed `from` and `to` of `total` rows. */
  sustained(total: number, from = 0.1, to = 0.9): number | undefined {
    const commits = [...this.commits].sort((a, b) => a.at - b.at);
    let sum = 0;
    let start: { at: number; rows: number } | undefined;
    for (const c of commits) {
      sum += c.inserted;
      if (!start && sum >= total * from) start = { at: c.at, rows: sum };
      else if (start && sum >= total * to) {
        const ms = c.at - start.at;
        return ms > 0 ? Math.round(((sum - start.rows) * 1000) / ms) : undefined;
      }
    }
    return undefined;
  }
  lag(filter: (account: string) => boolean): LatencySummary {
    let all: number[] = [];
    // concat, not push(...s): a flood has more samples than a call has argument slots.
    for (const [a, s] of this.samples) if (filter(a)) all = all.concat(s);
    const sum = summarize(all);
    return { ...sum, mean: round(sum.mean) };
  }
}

/** How often the flood's queue depth is sampled while feeding. */
const BACKLOG_SAMPLE_MS = 250;

function randomKey(): string {
  return `PL:${randomBytes(5).toString('hex').toUpperCase().match(/../g)!.join(':')}`;
}

export async function runPipelineLoadtest(opts: PipelineOptions): Promise<PipelineReport> {
  const progress = opts.onProgress ?? (() => undefined);
  // The components log warnings only; the report is the output.
  const quiet = createLogger({ level: 'warn', format: opts.config.logFormat, name: 'loadtest' });
  const sandbox = await createSandbox(opts.config, 'pipeline', opts.logger, {
    frontendPort: 0,
    dispatcherPort: 0,
    maintainInterval: '10s',
    leaseTimeout: '15s',
    host: '127.0.0.1',
  });
  const lifecycle = createLifecycle(opts.logger);
  lifecycle.defer('sandbox', () => sandbox.cleanup());
  progress(`sandbox: ${sandbox.where} (removed at the end, also on Ctrl-C)`);
  const cfg = sandbox.config;
  try {
    const pool = createPgPool(cfg.pgUrl, {
      max: Math.max(4, opts.writers + 1),
      application: 'ingest-loadtest',
    });
    lifecycle.defer('pool', () => pool.end());

    const measureCeiling = async (when: string): Promise<CeilingResult | undefined> => {
      if (opts.ceilingRows <= 0) return undefined;
      progress(`write-path ceiling ${when} the run (${opts.ceilingRows} values, copy-ledger)`);
      const perTx = Math.max(1, Math.round(20_000 / (opts.readingsPerRequest * 2)));
      const ceiling = (rows: number): Promise<CeilingResult[]> =>
        measureWriteCeiling(pool, {
          paths: ['copy-ledger'],
          rows,
          readingsPerMessage: opts.readingsPerRequest,
          perTx,
          // As many transactions at once as the consumers' writers run.
          concurrency: opts.writers,
        });
      // The first time, a short unmeasured round first: code not yet compiled and fresh
      // connections (cold caches) made the "before" figure 10-25% lower than "after".
      if (when === 'before') {
        await ceiling(Math.min(opts.ceilingRows, 40_000));
        await pool.query('TRUNCATE readings, consumed_messages');
      }
      const [c] = await ceiling(opts.ceilingRows);
      await pool.query('TRUNCATE readings, consumed_messages');
      progress(`ceiling ${when}: ${c!.rowsPerSec} values/s`);
      return c;
    };
    const ceilingBefore = await measureCeiling('before');
    throwIfInterrupted(opts.signal);

    progress(`provisioning ${opts.accounts} accounts${opts.flood ? ' + 1 flooding' : ''}`);
    const prov = createProvisioning({ pool, config: cfg });
    const gateways: FeedGateway[] = [];
    const pad = String(opts.accounts).length;
    for (let i = 1; i <= opts.accounts; i++) {
      const account = `P${String(i).padStart(Math.max(7, pad), '0')}`;
      await prov.addAccount({ id: account });
      const sourceKey = randomKey();
      const { token } = await prov.addGateway({ sourceKey, accountId: account });
      gateways.push({ account, sourceKey, token });
      sandbox.queues.add(accountQueueName(cfg, account));
    }
    let floodGateway: FeedGateway | undefined;
    if (opts.flood) {
      await prov.addAccount({ id: opts.flood.account });
      const sourceKey = randomKey();
      const { token } = await prov.addGateway({ sourceKey, accountId: opts.flood.account });
      floodGateway = { account: opts.flood.account, sourceKey, token };
      sandbox.queues.add(accountQueueName(cfg, opts.flood.account));
    }
    for (const k of ['readings', 'alerts'] as const) sandbox.queues.add(deadQueueName(cfg, k));
    sandbox.queues.add(alertsQueueName(cfg));

    const redis = createRedis(cfg.redisUrl, { logger: quiet, failFast: false });
    lifecycle.defer('redis', () => redis.disconnect());
    const sync = createCacheSync({ config: cfg, logger: quiet, pool, redis });
    await sync.syncOnce();
    await sync.close();

    // Stopped before the ceiling is measured again: their timers and idle polls would
    // take from it what the ceiling is meant to have alone.
    const components = createLifecycle(opts.logger);
    lifecycle.defer('components', () => components.close());
    const maintainer = await createMaintainerFromConfig({ config: cfg, logger: quiet });
    components.defer('maintainer', () => maintainer.close());
    await maintainer.runOnce();
    maintainer.start();
    const dispatcher = await startDispatcherServer({ config: cfg, logger: quiet });
    components.defer('dispatcher', () => dispatcher.close());
    const frontend = await startFrontendServer({ config: cfg, logger: quiet });
    components.defer('frontend', () => frontend.close());

    const lag = new LagCollector();
    const consumerLife = createLifecycle(quiet);
    components.defer('consumers', () => consumerLife.close());
    await runConsumer(
      { config: { ...cfg, dispatcherUrl: dispatcher.url }, logger: quiet, lifecycle: consumerLife },
      {
        concurrency: opts.consumers,
        batch: opts.batch,
        prefetch: opts.prefetch,
        writers: opts.writers,
        once: false,
        name: 'loadtest',
        onStored: (e) => lag.add(e),
        onDrained: (e) => lag.drained(e.result),
      },
    );

    throwIfInterrupted(opts.signal);
    const stop = new AbortController();
    const deadline = setTimeout(() => stop.abort(), opts.timeoutMs);
    const onInterrupt = (): void => stop.abort();
    opts.signal?.addEventListener('abort', onInterrupt, { once: true });
    lifecycle.defer('interrupt', () => opts.signal?.removeEventListener('abort', onInterrupt));
    lifecycle.defer('deadline', () => clearTimeout(deadline));
    const untilStored = async (values: number): Promise<void> => {
      while (lag.inserted < values && !stop.signal.aborted) {
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    let warmup: PipelineReport['warmup'];
    const jitRequests = opts.jitWarmupRequests ?? 0;
    if (opts.warmupRequests > 0 || jitRequests > 0) {
      progress(
        `warm-up: ${jitRequests > 0 ? `${jitRequests} requests of ${JIT_WARMUP_READINGS} readings (the code gets compiled), then ` : ''}${opts.warmupRequests} requests of ${opts.readingsPerRequest} readings, stored before the clock starts`,
      );
      const w0 = Date.now();
      const warmGateways = floodGateway ? [...gateways, floodGateway] : gateways;
      let warmValues = 0;
      const warmFeed = async (requests: number, readingsPerRequest: number) => {
        const fed = await feed(
          frontend.url,
          {
            gateways: warmGateways,
            requests,
            readingsPerRequest,
            connections: opts.connections,
            pauseMs: 0,
          },
          stop.signal,
        );
        warmValues += fed.acceptedValues;
        await untilStored(warmValues);
        throwIfInterrupted(opts.signal);
        return fed;
      };
      const jit = jitRequests > 0 ? await warmFeed(jitRequests, JIT_WARMUP_READINGS) : undefined;
      const warm =
        opts.warmupRequests > 0
          ? await warmFeed(opts.warmupRequests, opts.readingsPerRequest)
          : undefined;
      warmup = {
        requests: warm?.accepted ?? 0,
        jitRequests: jit?.accepted ?? 0,
        values: warmValues,
        seconds: round((Date.now() - w0) / 1000, 2),
      };
      lag.reset();
    }

    const requests = runRequests(opts.readings, opts.readingsPerRequest);
    progress(
      `feeding ${requests} requests of ${opts.readingsPerRequest} readings over ${opts.connections} connections${opts.flood ? `, flood ${opts.flood.messages} messages` : ''}`,
    );
    const cpuMeter: CpuBudgetMeter | undefined = await startCpuBudget({ pool }).catch(
      (err: unknown) => {
        opts.logger.warn({ err: errorMessage(err) }, 'cannot measure the CPU budget');
        return undefined;
      },
    );
    // Stopped at the last commit; an interrupted or failed run stops its sampling here.
    lifecycle.defer('cpu budget', () => cpuMeter?.stop().catch(() => undefined));
    // How far the flood's queue piles up: with an HTTP flood the consumers often keep up,
    // and then the others' lag says nothing about isolation.
    const backlogWatch: BacklogWatch | undefined = opts.flood
      ? watchBacklog({
          amqpUrl: cfg.amqpUrl,
          queue: accountQueueName(cfg, opts.flood.account),
          logger: quiet,
          signal: stop.signal,
          intervalMs: BACKLOG_SAMPLE_MS,
          maxSamples: Math.ceil(opts.timeoutMs / BACKLOG_SAMPLE_MS) + 1,
        })
      : undefined;
    // Stopped once fed; an interrupted or failed run stops it here.
    lifecycle.defer('backlog watch', () => backlogWatch?.stop());
    const t0 = Date.now();
    const floodConns =
      opts.flood && !opts.flood.direct ? Math.max(1, Math.floor(opts.connections / 2)) : 0;
    const trickle = feed(
      frontend.url,
      {
        gateways,
        requests,
        readingsPerRequest: opts.readingsPerRequest,
        connections: Math.max(1, opts.connections - floodConns),
        pauseMs: opts.flood ? opts.tricklePauseMs : 0,
      },
      stop.signal,
    );
    const flood = opts.flood;
    const flooding: Promise<FeedResult | undefined> =
      flood && floodGateway
        ? flood.direct
          ? publishBacklog({
              amqpUrl: cfg.amqpUrl,
              queue: accountQueueName(cfg, flood.account),
              account: flood.account,
              sourceKey: floodGateway.sourceKey,
              messages: flood.messages,
              readingsPerMessage: flood.readingsPerMessage,
              logger: quiet,
              signal: stop.signal,
            })
          : feed(
              frontend.url,
              {
                gateways: [floodGateway],
                requests: flood.messages,
                readingsPerRequest: flood.readingsPerMessage,
                connections: floodConns,
                pauseMs: 0,
              },
              stop.signal,
            )
        : Promise.resolve(undefined);
    const ticker = setInterval(
      () => progress(`${lag.inserted} values stored, ${round((Date.now() - t0) / 1000)} s`),
      5_000,
    );
    lifecycle.defer('ticker', () => clearInterval(ticker));
    const [fed, floodFed] = await Promise.all([trickle, flooding]);
    // Nothing more goes into the flood's queue: its peak is behind us.
    const backlog = await backlogWatch?.stop();
    const acceptedValues = fed.acceptedValues + (floodFed?.acceptedValues ?? 0);
    progress(`fed: ${acceptedValues} values accepted; waiting for the rows`);
    await untilStored(acceptedValues);
    throwIfInterrupted(opts.signal);
    const end = lag.lastCommit || Date.now();
    const cpu = await cpuMeter?.stop().catch(() => undefined);
    clearInterval(ticker);
    const count = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM readings');
    const dups = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM readings
         GROUP BY source_key, device, param, ts HAVING count(*) > 1) d`,
    );
    const stored = count.rows[0]!.n;
    const warmValues = warmup?.values ?? 0;
    const expected = acceptedValues + warmValues;
    const seconds = (end - t0) / 1000;
    // Only what was fed after the clock started (a missing row fails the run anyway).
    const valuesPerSec = Math.round(Math.max(0, Math.min(stored, expected) - warmValues) / seconds);
    const sustained = lag.sustained(acceptedValues);
    // Before the components stop: their last (empty) leases are no part of the run.
    const leases = { ...lag.leases };
    // Measure the ceiling again in the emptied tables, with the components stopped.
    await components.close();
    const ceilingAfter = ceilingBefore ? await measureCeiling('after') : undefined;
    const ceiling =
      ceilingBefore && ceilingAfter
        ? {
            rowsPerSec: Math.round((ceilingBefore.rowsPerSec + ceilingAfter.rowsPerSec) / 2),
            before: ceilingBefore,
            after: ceilingAfter,
          }
        : undefined;
    const floodAccount = opts.flood?.account;
    const frontendFed = frontendFigures(
      t0,
      fed,
      floodFed && opts.flood ? { result: floodFed, viaHttp: !opts.flood.direct } : undefined,
    );
    const report: PipelineReport = {
      machine: {
        cpus: (await import('node:os')).cpus().length,
        node: process.version,
        date: new Date().toISOString(),
      },
      settings: {
        readings: opts.readings,
        accounts: opts.accounts,
        readingsPerRequest: opts.readingsPerRequest,
        connections: opts.connections,
        consumers: opts.consumers,
        batch: opts.batch,
        prefetch: opts.prefetch,
        writers: opts.writers,
        queueType: cfg.queueType,
        writePath: 'copy-ledger',
        warmupRequests: opts.warmupRequests,
        jitWarmupRequests: jitRequests,
        flood: opts.flood ?? null,
      },
      accepted: {
        requests: fed.accepted + (floodFed?.accepted ?? 0),
        readings: fed.acceptedReadings + (floodFed?.acceptedReadings ?? 0),
        values: acceptedValues,
        rejected: { ...fed.rejected, ...(floodFed?.rejected ?? {}) },
      },
      warmup,
      stored,
      duplicates: dups.rows[0]!.n + Math.max(0, stored - expected),
      missing: Math.max(0, expected - stored),
      redeliveredValues: lag.offered - lag.inserted,
      seconds: round(seconds, 2),
      valuesPerSec,
      frontend: frontendFed,
      feedSeconds: frontendFed.seconds,
      acceptedValuesPerSec: frontendFed.valuesPerSec,
      lagMs: lag.lag(() => true),
      transactions: {
        count: lag.transactions,
        meanValues: Math.round(lag.offered / Math.max(1, lag.transactions)),
        meanMs: round(lag.storeMs / Math.max(1, lag.transactions)),
      },
      leases,
      ceiling,
      ratioOfCeiling: ceiling ? round(valuesPerSec / ceiling.rowsPerSec, 2) : undefined,
      sustainedValuesPerSec: sustained,
      sustainedRatioOfCeiling:
        ceiling && sustained !== undefined ? round(sustained / ceiling.rowsPerSec, 2) : undefined,
      timedOut: stop.signal.aborted,
      cpu,
    };
    if (opts.flood && floodAccount && floodFed && backlog) {
      report.flood = {
        account: floodAccount,
        messagesAccepted: floodFed.accepted,
        floodLagMs: lag.lag((a) => a === floodAccount),
        othersLagMs: lag.lag((a) => a !== floodAccount),
        floodSeconds: round((floodFed.lastAt - floodFed.firstAt) / 1000, 2),
        via: opts.flood.direct ? 'queue' : 'http',
        backlog,
      };
    }
    return report;
  } catch (err) {
    if (!isIngestError(err, 'INTERRUPTED'))
      opts.logger.error({ err: errorMessage(err) }, 'pipeline load test failed');
    throw err;
  } finally {
    progress('cleaning up the sandbox');
    await lifecycle.close();
  }
}
