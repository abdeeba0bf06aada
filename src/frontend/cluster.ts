/**
 * `serve-frontend --workers N`: N processes sharing the port (node:cluster).
 * The primary restarts a worker that dies (backing off when they die in a
 * loop), forwards the first SIGTERM/SIGINT so every worker drains, and answers
 * workers' /metrics with the aggregate of all of them (prom-client).
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { IngestError, errorMessage } from '../core/errors.js';
import { backoffDelay } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';

const REQ = 'ingest:metrics-req';
const RES = 'ingest:metrics-res';

interface MetricsMessage {
  type: string;
  id: number;
  text?: string;
  error?: string;
}

export const isClusterWorker = (): boolean => cluster.isWorker;

/** Run the primary until its workers have drained after a signal. */
export async function runFrontendPrimary(opts: { workers: number; logger: Logger }): Promise<void> {
  const { logger } = opts;
  const aggregator = new AggregatorRegistry();
  let stopping = false;
  let recentDeaths = 0;

  function onMessage(worker: Worker, msg: MetricsMessage): void {
    if (msg?.type !== REQ) return;
    aggregator.clusterMetrics().then(
      (text) => worker.isConnected() && worker.send({ type: RES, id: msg.id, text }),
      (err: unknown) =>
        worker.isConnected() && worker.send({ type: RES, id: msg.id, error: errorMessage(err) }),
    );
  }

  function fork(): void {
    const w = cluster.fork();
    w.on('message', (msg: MetricsMessage) => onMessage(w, msg));
  }

  // Workers that die before any ever listened (port taken, bad config) are not
  // restarted forever: the primary gives up with their error.
  let everListened = false;
  let deathsBeforeListening = 0;
  let giveUp!: (err: Error) => void;
  const gaveUp = new Promise<never>((_, reject) => (giveUp = reject));
  cluster.on('listening', () => (everListened = true));

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    if (!everListened && code !== 0 && ++deathsBeforeListening >= opts.workers * 2) {
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
      giveUp(
        new IngestError(
          'INTERNAL',
          `frontend workers keep exiting (code ${code}) before listening; see the log above (port in use? servers reachable?)`,
        ),
      );
      return;
    }
    recentDeaths += 1;
    setTimeout(() => (recentDeaths = Math.max(0, recentDeaths - 1)), 60_000).unref();
    const delay = recentDeaths > 3 ? backoffDelay(recentDeaths - 3, 500, 30_000) : 0;
    logger.warn(
      { workerPid: worker.process.pid, code, signal, restartInMs: delay },
      'frontend worker died; restarting',
    );
    setTimeout(() => !stopping && fork(), delay);
  });

  for (let i = 0; i < opts.workers; i++) fork();
  logger.info({ workers: opts.workers }, 'frontend primary started');

  const drained = new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      signals += 1;
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);
      if (signals > 1) {
        for (const w of workers) w.process.kill('SIGKILL');
        process.exit(130);
      }
      stopping = true;
      logger.info({ signal }, 'draining workers (send the signal again to exit at once)');
      for (const w of workers) w.process.kill('SIGTERM');
      const check = (): void => {
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve();
      };
      cluster.on('exit', check);
      check();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await Promise.race([drained, gaveUp]);
}

/** In a worker: make the registry visible to the primary's aggregation, and ask for the aggregate. */
export function clusterWorkerMetrics(): {
  onRegistry(registry: Registry): void;
  metricsText(registry: Registry): Promise<string>;
} {
  let next = 0;
  const waiting = new Map<number, (m: MetricsMessage) => void>();
  process.on('message', (msg: MetricsMessage) => {
    if (msg?.type === RES) waiting.get(msg.id)?.(msg);
  });
  return {
    onRegistry(registry) {
      // Constructing one installs prom-client's worker-side listener for the primary's requests.
      new AggregatorRegistry();
      AggregatorRegistry.setRegistries([registry]);
    },
    metricsText(registry) {
      const id = next++;
      return new Promise<string>((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          // The primary did not answer: this worker's own figures are better than nothing.
          void registry.metrics().then(resolve);
        }, 5_000);
        waiting.set(id, (m) => {
          clearTimeout(timer);
          waiting.delete(id);
          if (m.text !== undefined) resolve(m.text);
          else void registry.metrics().then(resolve);
        });
        process.send?.({ type: REQ, id });
      });
    },
  };
}
