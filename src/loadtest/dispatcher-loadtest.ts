/**
 * `ingest loadtest dispatcher`: simulated consumers loop POST /queue/next ->
 * POST /queue/:id/release over keep-alive HTTP, for each consumer count, and
 * the same claim+release statements straight at PostgreSQL from as many
 * connections in the same run (the raw ceiling). Without --url the dispatcher
 * is `ingest dispatch` as a child process on a free port, with a throwaway
 * database of N queues created and dropped by the run.
 */
import { throwIfInterrupted } from './interrupt.js';
import { cpus } from 'node:os';
import { createPgPool } from '../adapters/postgres/pool.js';
import { createRedis } from '../adapters/redis/client.js';
import type { Config } from '../core/config.js';
import { IngestError, errorMessage, isIngestError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { createDispatcherClient, type NextGrant } from '../dispatcher/client.js';
import { writeHeartbeat } from '../maintainer/heartbeat.js';
import type { Strategy } from '../registry/registry.js';
import {
  createTally,
  measureRawCeiling,
  type LoopResult,
  type ReleaseMode,
} from './dispatcher-raw.js';
import { freePort, startIngest, waitForHttp, type IngestDaemon } from './ingest-process.js';
import { createSandbox, type Sandbox } from './sandbox.js';
import { round } from './stats.js';

/** The original dispatcher: mean ms of /queue/next by concurrent consumers (issue 3). */
export const DISPATCHER_BASELINE: Readonly<Record<number, number>> = {
  1: 130,
  2: 140,
  4: 145,
  6: 157,
  8: 170,
  10: 180,
  12: 180,
};

export const DISPATCHER_TARGET = { consumers: 12, meanMs: 8, p99Ms: 30, ofRaw: 0.7 } as const;

export interface DispatcherLoadOptions {
  config: Config;
  logger: Logger;
  consumers: number[];
  queues: number;
  durationMs: number;
  url?: string;
  skipRaw?: boolean;
  /** combined (default, what `ingest consume` does): the release rides on the next POST /queue/next. */
  mode?: ReleaseMode;
  onProgress?: (line: string) => void;
  /** Aborted: stop early and clean up (the run then throws INTERRUPTED). */
  signal?: AbortSignal | undefined;
}

export interface DispatcherLoadResult {
  consumers: number;
  http: LoopResult;
  raw?: LoopResult;
  /** HTTP cycles/s ÷ raw cycles/s. */
  ofRaw?: number;
  originalMeanMs?: number;
}

export interface DispatcherLoadReport {
  target: { url: string; startedByLoadtest: boolean; queues: number; strategy: Strategy };
  mode: ReleaseMode;
  machine: { cpus: number; cpuModel: string; node: string; date: string };
  durationMs: number;
  results: DispatcherLoadResult[];
  /** The targets at 12 consumers (when 12 was run). */
  verdict?: { meanMs: number; p99Ms: number; ofRaw?: number; met: boolean };
  heldTwice: number;
  errors: number;
}

async function seedQueues(pgUrl: string, n: number): Promise<void> {
  const pool = createPgPool(pgUrl, { max: 1, application: 'ingest-loadtest' });
  try {
    // Half known to have messages, so messages-first has something to order.
    await pool.query(
      `INSERT INTO queue_registry (id, has_messages)
       SELECT 'LT' || lpad(g::text, 6, '0'), g % 2 = 0 FROM generate_series(1, $1::int) g`,
      [n],
    );
    await pool.query('ANALYZE queue_registry');
  } finally {
    await pool.end();
  }
}

async function httpLoop(
  url: string,
  consumers: number,
  durationMs: number,
  mode: ReleaseMode,
  signal: AbortSignal | undefined,
): Promise<LoopResult> {
  const client = createDispatcherClient({ url, maxSockets: consumers, timeoutMs: 10_000 });
  const tally = createTally();
  const started = performance.now();
  const until = started + durationMs;
  try {
    await Promise.all(
      Array.from({ length: consumers }, async (_, i) => {
        const consumer = `loadtest-${i}`;
        let held: NextGrant | undefined;
        while (performance.now() < until && !signal?.aborted) {
          const t0 = performance.now();
          try {
            let g: NextGrant | null;
            if (mode === 'combined' && held) {
              // What `ingest consume` does: give the last queue back with the next request.
              tally.give(held.queue);
              const prev = held;
              held = undefined;
              g = await client.next({
                consumer,
                release: prev.queue,
                lease: prev.lease,
                empty: Math.random() < 0.5,
              });
              if (g && g.released === false) tally.lost();
            } else {
              g = await client.next({ consumer });
            }
            const t1 = performance.now();
            if (!g) {
              tally.empty();
              tally.sample(t1 - t0, undefined);
              continue;
            }
            tally.take(g.queue, `${consumer}/${g.lease}@${new Date().toISOString()}`);
            if (mode === 'combined') {
              held = g;
              tally.sample(t1 - t0, t1 - t0);
              continue;
            }
            tally.give(g.queue);
            try {
              await client.release(g.queue, { lease: g.lease, empty: Math.random() < 0.5 });
            } catch (err) {
              if (isIngestError(err, 'LEASE_NOT_HELD')) tally.lost();
              else throw err;
            }
            tally.sample(t1 - t0, performance.now() - t0);
          } catch (err) {
            tally.error(err);
            if (isIngestError(err, 'DISPATCHER_UNREACHABLE')) throw err;
          }
        }
        if (held) {
          // Given up before it is released, like every other give-back: others may take it next.
          tally.give(held.queue);
          try {
            await client.release(held.queue, { lease: held.lease });
          } catch (err) {
            if (isIngestError(err, 'LEASE_NOT_HELD')) tally.lost();
            else tally.error(err);
          }
        }
      }),
    );
  } finally {
    client.close();
  }
  return tally.result(consumers, (performance.now() - started) / 1000);
}

export async function runDispatcherLoadtest(
  opts: DispatcherLoadOptions,
): Promise<DispatcherLoadReport> {
  const { config, logger } = opts;
  const progress = opts.onProgress ?? (() => undefined);
  const mode = opts.mode ?? 'combined';
  let sandbox: Sandbox | undefined;
  let daemon: IngestDaemon | undefined;
  let beat: NodeJS.Timeout | undefined;
  const redis = createRedis(config.redisUrl, { logger, name: 'ingest-loadtest' });
  try {
    // The raw ceiling always runs in a throwaway database: never on a site's registry.
    progress(`creating a throwaway database with ${opts.queues} queues`);
    sandbox = await createSandbox(config, 'ltdisp', logger, { strategy: config.strategy });
    progress(`sandbox: ${sandbox.where} (removed at the end, also on Ctrl-C)`);
    await seedQueues(sandbox.config.pgUrl, opts.queues);
    let url = opts.url;
    let strategy: Strategy = config.strategy;
    let queueCount = opts.queues;
    if (!url) {
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      progress(`starting ingest dispatch on ${url}`);
      daemon = startIngest(['dispatch', '--port', String(port), '--host', '127.0.0.1'], {
        ...sandbox.env,
        INGEST_STRATEGY: config.strategy,
        INGEST_LOG_LEVEL: 'warn',
        INGEST_LOG_FORMAT: 'json',
        INGEST_ADMIN_TOKEN: '',
      });
      await waitForHttp(`${url}/health`, daemon);
      // A live maintainer heartbeat, so messages-first does not fall back to fifo.
      const hb = async (): Promise<void> => {
        await writeHeartbeat(redis, sandbox!.config).catch((err: unknown) =>
          logger.warn({ err: errorMessage(err) }, 'heartbeat write failed'),
        );
      };
      await hb();
      beat = setInterval(() => void hb(), 5_000);
    } else {
      const c = createDispatcherClient({ url, timeoutMs: 3_000 });
      try {
        const st = await c.status();
        strategy = st.dispatcher.effectiveStrategy;
        queueCount = st.queues.length;
        const claimable = st.queues.filter((q) => q.state === 'idle' || q.state === 'empty').length;
        if (claimable < Math.max(...opts.consumers))
          progress(
            `warning: only ${claimable} claimable queue(s) at ${url}; consumers will get 204s`,
          );
      } finally {
        c.close();
      }
    }

    const results: DispatcherLoadResult[] = [];
    for (const n of opts.consumers) {
      progress(`${n} consumer(s): next -> release over HTTP (${mode}) for ${opts.durationMs} ms`);
      const http = await httpLoop(url, n, opts.durationMs, mode, opts.signal);
      throwIfInterrupted(opts.signal);
      let raw: LoopResult | undefined;
      if (!opts.skipRaw) {
        progress(`${n} consumer(s): raw claim+release at PostgreSQL for ${opts.durationMs} ms`);
        raw = await measureRawCeiling({
          pgUrl: sandbox.config.pgUrl,
          consumers: n,
          durationMs: opts.durationMs,
          strategy,
          mode,
          signal: opts.signal,
        });
        throwIfInterrupted(opts.signal);
      }
      results.push({
        consumers: n,
        http,
        ...(raw
          ? {
              raw,
              ofRaw: raw.cyclesPerSecond
                ? round(http.cyclesPerSecond / raw.cyclesPerSecond, 2)
                : undefined,
            }
          : {}),
        ...(DISPATCHER_BASELINE[n] ? { originalMeanMs: DISPATCHER_BASELINE[n] } : {}),
      });
      if (daemon && daemon.child.exitCode !== null)
        throw new IngestError(
          'INTERNAL',
          `the dispatcher exited during the run:\n${daemon.output()}`,
        );
    }

    const at12 = results.find((r) => r.consumers === DISPATCHER_TARGET.consumers);
    const verdict = at12 && {
      meanMs: round(at12.http.cycle.mean, 2),
      p99Ms: round(at12.http.cycle.p99, 2),
      ...(at12.ofRaw !== undefined ? { ofRaw: at12.ofRaw } : {}),
      met:
        at12.http.cycle.mean <= DISPATCHER_TARGET.meanMs &&
        at12.http.cycle.p99 <= DISPATCHER_TARGET.p99Ms &&
        (at12.ofRaw === undefined || at12.ofRaw >= DISPATCHER_TARGET.ofRaw),
    };
    return {
      target: {
        url,
        startedByLoadtest: daemon !== undefined,
        queues: queueCount,
        strategy,
      },
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        node: process.version,
        date: new Date().toISOString(),
      },
      mode,
      durationMs: opts.durationMs,
      results,
      ...(verdict ? { verdict } : {}),
      heldTwice: results.reduce((a, r) => a + r.http.overlaps + (r.raw?.overlaps ?? 0), 0),
      errors: results.reduce((a, r) => a + r.http.errors + (r.raw?.errors ?? 0), 0),
    };
  } finally {
    if (beat) clearInterval(beat);
    await daemon?.stop();
    await sandbox?.cleanup();
    redis.disconnect();
  }
}
