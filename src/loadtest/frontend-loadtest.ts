/**
 * `ingest loadtest frontend`: autocannon against a frontend, then the same
 * messages straight to RabbitMQ (the raw ceiling) in the same run, then a check
 * that the queue grew by exactly what was acknowledged with 2xx.
 */
import autocannon from 'autocannon';
import { throwIfInterrupted } from './interrupt.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import { createAmqpConnection, type AmqpConnection } from '../adapters/rabbitmq/connection.js';
import { assertAccountQueue } from '../adapters/rabbitmq/topology.js';
import { frontendBaseline } from './baselines.js';
import { prepareFrontendTarget, type FrontendTarget } from './frontend-target.js';
import { measureRawPublish, type RawPublishResult } from './raw-publish.js';
import { makeBodyTemplate } from './readings-generator.js';
import { round } from './stats.js';

export interface FrontendLoadOptions {
  config: Config;
  logger: Logger;
  sizes: number[];
  connections: number;
  durationMs: number;
  /** Aborted: stop early and clean up (the run then throws INTERRUPTED). */
  signal?: AbortSignal | undefined;
  /** Exact number of requests per size instead of a duration. */
  requests?: number;
  url?: string;
  workers?: number;
  /** Skip the raw broker ceiling. */
  skipRaw?: boolean;
  onProgress?: (line: string) => void;
}

export interface QueueCheck {
  before: number;
  after: number;
  grew: number;
  expected: number;
  consumers: number;
  verdict:
    | 'exact'
    | 'extra (published, but the client saw no 2xx)'
    | 'MISSING MESSAGES'
    | 'unverifiable (queue has consumers)';
}

export interface FrontendSizeResult {
  readings: number;
  connections: number;
  seconds: number;
  ok: number;
  non2xx: number;
  errors: number;
  latency: { mean: number; p50: number; p90: number; p99: number; max: number };
  requestsPerSecond: number;
  readingsPerSecond: number;
  queue: QueueCheck;
  raw?: RawPublishResult;
  /** Frontend readings/s ÷ raw readings/s. */
  ofRaw?: number;
  baseline?: { newMs: number; oldMs: number };
}

export interface FrontendLoadReport {
  target: { url: string; startedByLoadtest: boolean; queue: string };
  machine: { cpus: number; node: string; date: string };
  results: FrontendSizeResult[];
}

async function depth(
  conn: AmqpConnection,
  queue: string,
): Promise<{ messages: number; consumers: number }> {
  const ch = await conn.createChannel();
  try {
    const q = await ch.checkQueue(queue);
    return { messages: q.messageCount, consumers: q.consumerCount };
  } finally {
    await ch.close().catch(() => undefined);
  }
}

async function purge(conn: AmqpConnection, queue: string): Promise<void> {
  const ch = await conn.createChannel();
  await ch.purgeQueue(queue).catch(() => undefined);
  await ch.close().catch(() => undefined);
}

function checkQueue(
  before: number,
  after: number,
  ok: number,
  perRequest: number,
  consumers: number,
): QueueCheck {
  const grew = after - before;
  const expected = ok * perRequest;
  let verdict: QueueCheck['verdict'];
  if (consumers > 0) verdict = 'unverifiable (queue has consumers)';
  else if (grew === expected) verdict = 'exact';
  else if (grew > expected) verdict = 'extra (published, but the client saw no 2xx)';
  else verdict = 'MISSING MESSAGES';
  return { before, after, grew, expected, consumers, verdict };
}

async function runAutocannon(
  target: FrontendTarget,
  size: number,
  opts: FrontendLoadOptions,
  firstSeq: number,
  run: { amount: number } | { durationMs: number },
) {
  const template = makeBodyTemplate(size);
  let seq = firstSeq;
  const path = `/readings?source_key=${encodeURIComponent(target.sourceKey)}&x-dexcell-source-token=${encodeURIComponent(target.token)}`;
  const options: autocannon.Options = {
    url: target.url,
    connections: opts.connections,
    ...('amount' in run ? { amount: run.amount } : { duration: run.durationMs / 1000 }),
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json' },
        setupRequest: (req: autocannon.Request) => ({ ...req, body: template.body(seq++) }),
      },
    ],
  };
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const stop = (): void => instance.stop();
    const instance = autocannon(options, (err: unknown, r: autocannon.Result) => {
      opts.signal?.removeEventListener('abort', stop);
      if (err) reject(err instanceof Error ? err : new Error(String(err)));
      else resolve(r);
    });
    if (opts.signal?.aborted) instance.stop();
    else opts.signal?.addEventListener('abort', stop, { once: true });
  });
  throwIfInterrupted(opts.signal);
  return { result, template, nextSeq: seq };
}

export async function runFrontendLoadtest(opts: FrontendLoadOptions): Promise<FrontendLoadReport> {
  const progress = opts.onProgress ?? (() => undefined);
  progress(
    opts.url ? `provisioning a test gateway for ${opts.url}` : 'starting a frontend in a sandbox',
  );
  const target = await prepareFrontendTarget({
    config: opts.config,
    logger: opts.logger,
    url: opts.url,
    workers: opts.workers,
  });
  const conn = createAmqpConnection({
    url: target.config.amqpUrl,
    logger: opts.logger,
    name: 'ingest-loadtest',
  });
  const rawQueue = `${target.config.queuePrefix}loadtest-raw-${process.pid}`;
  const results: FrontendSizeResult[] = [];
  try {
    await conn.ready();
    const setup = await conn.createChannel();
    await assertAccountQueue(setup, rawQueue, target.config.queueType);
    await setup.close();
    const perRequestChunk = target.config.chunkReadings;
    let seq = 1;
    for (const size of opts.sizes) {
      const perRequest = Math.ceil(size / perRequestChunk);
      let amount = opts.requests;
      if (amount === undefined) {
        // A run stopped by the clock abandons requests whose fate the client never
        // learns. So: a short warm-up measures the rate, then the measured run sends
        // an exact count sized to --duration, and the queue check can be exact.
        progress(`${size} readings/request: warm-up`);
        const warm = await runAutocannon(target, size, opts, seq, {
          durationMs: Math.min(1_000, opts.durationMs),
        });
        seq = warm.nextSeq;
        const rate = warm.result['2xx'] / Math.max(warm.result.duration, 0.1);
        amount = Math.max(opts.connections, Math.round((rate * opts.durationMs) / 1000));
        await new Promise((r) => setTimeout(r, 500));
      }
      const before = await depth(conn, target.queue);
      progress(`${size} readings/request, ${opts.connections} connection(s): ${amount} requests`);
      const { result, nextSeq } = await runAutocannon(target, size, opts, seq, { amount });
      seq = nextSeq;
      const after = await depth(conn, target.queue);
      const ok = result['2xx'];
      const seconds = result.duration;
      const entry: FrontendSizeResult = {
        readings: size,
        connections: opts.connections,
        seconds: round(seconds, 2),
        ok,
        non2xx: result.non2xx,
        errors: result.errors,
        latency: {
          mean: round(result.latency.mean, 2),
          p50: result.latency.p50,
          p90: result.latency.p90,
          p99: result.latency.p99,
          max: result.latency.max,
        },
        requestsPerSecond: round(ok / seconds, 1),
        readingsPerSecond: Math.round((ok * size) / seconds),
        queue: checkQueue(before.messages, after.messages, ok, perRequest, after.consumers),
        baseline: frontendBaseline(size),
      };
      // Counted: empty the queue so the raw run meets the broker as the frontend run did.
      if (target.started) await purge(conn, target.queue);
      if (!opts.skipRaw) {
        progress(`${size} readings/request: raw broker ceiling`);
        entry.raw = await measureRawPublish({
          amqpUrl: target.config.amqpUrl,
          queue: rawQueue,
          template: makeBodyTemplate(size),
          concurrency: opts.connections,
          durationMs: opts.requests ? Math.max(2_000, seconds * 1000) : opts.durationMs,
          maxMessages: Math.max(ok * perRequest * 3, 100),
          firstSeq: seq,
          logger: opts.logger,
          signal: opts.signal,
        });
        throwIfInterrupted(opts.signal);
        entry.ofRaw =
          entry.raw.readingsPerSecond > 0
            ? round(entry.readingsPerSecond / entry.raw.readingsPerSecond, 2)
            : undefined;
        await purge(conn, rawQueue);
      }
      results.push(entry);
    }
  } finally {
    // On a live site, take the test messages back out of its LOADTEST queue (whatever its
    // consumers drained meanwhile is stored under source keys LT:…).
    if (!target.started) await purge(conn, target.queue).catch(() => undefined);
    const ch = await conn.createChannel().catch(() => undefined);
    await ch?.deleteQueue(rawQueue).catch(() => undefined);
    await conn.close();
    await target.close();
  }
  const os = await import('node:os');
  return {
    target: { url: target.url, startedByLoadtest: target.started, queue: target.queue },
    machine: { cpus: os.cpus().length, node: process.version, date: new Date().toISOString() },
    results,
  };
}
