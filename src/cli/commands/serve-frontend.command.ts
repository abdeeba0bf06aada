import type { Command } from 'commander';
import { errorMessage } from '../../core/errors.js';
import { addSettings, contextFrom } from '../settings.js';

export function registerServeFrontend(program: Command): void {
  const cmd = program
    .command('serve-frontend')
    .description(
      'HTTP entry point for gateways: POST /readings authenticates, validates and publishes each request to its account queue with publisher confirms (2xx only once durable); /health, /ready, /metrics, /admin/gateways',
    )
    .addHelpText(
      'after',
      `
Examples:
  ingest serve-frontend
  ingest serve-frontend --port 8080 --host 0.0.0.0 --workers 2
  ingest serve-frontend --rate-limit 5 --max-queue-depth 100000

Gateways POST to /readings?source_key=<key>&x-dexcell-source-token=<token>
(the token may also be sent as header x-dexcell-source-token). Tokens are
checked against the Redis cache written by \`ingest sync-cache\`, cached
in-process for --token-cache-ttl. SIGTERM/SIGINT: /ready turns 503, no new
connections; in-flight requests finish and get their confirms, keep-alive
connections get up to 1 s more with Connection: close, then the process exits.`,
    );
  addSettings(cmd, [
    'frontendPort',
    'host',
    'workers',
    'redisUrl',
    'redisPrefix',
    'amqpUrl',
    'queuePrefix',
    'queueType',
    'bodyLimit',
    'chunkReadings',
    'publishTimeout',
    'tokenCacheTtl',
    'rateLimit',
    'maxQueueDepth',
    'adminToken',
  ]).action(async () => {
    const { config, logger, lifecycle } = await contextFrom(cmd, 'ingest serve-frontend');
    const { clusterWorkerMetrics, isClusterWorker, runFrontendPrimary } =
      await import('../../frontend/cluster.js');
    const { startFrontendServer } = await import('../../frontend/server.js');
    if (config.workers > 1 && !isClusterWorker()) {
      await runFrontendPrimary({ workers: config.workers, logger });
      return;
    }
    const clustered = isClusterWorker() ? clusterWorkerMetrics() : undefined;
    let server;
    try {
      server = await startFrontendServer({
        config,
        logger,
        ...(clustered
          ? { metricsText: clustered.metricsText, onRegistry: clustered.onRegistry }
          : {}),
      });
    } catch (err) {
      if (!clustered) throw err;
      // A worker's IPC channel would keep it alive: report and exit, the primary decides.
      process.stderr.write(`ingest: worker ${process.pid}: ${errorMessage(err)}\n`);
      process.exit(1);
    }
    lifecycle.defer('frontend', () => server.close());
    lifecycle.handleSignals();
    if (!isClusterWorker()) process.stdout.write(`frontend listening on ${server.url}\n`);
    await lifecycle.closed;
    await lifecycle.close();
    // A worker's IPC channel to the primary would keep it alive after draining.
    if (isClusterWorker()) process.exit(0);
  });
}
