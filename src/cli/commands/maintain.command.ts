import type { Command } from 'commander';
import type { PassReport } from '../../maintainer/maintainer.js';
import { addSettings, contextFrom } from '../settings.js';
import { info, printJson } from '../output.js';

interface Flags {
  once?: boolean;
  json?: boolean;
}

function summary(r: PassReport): string[] {
  const lines = [
    `accounts:  ${r.accounts.active} active, ${r.accounts.created.length} created, ${r.accounts.restored.length} restored, ${r.accounts.deleted.length} flagged deleted, ${r.accounts.draining.length} gone but draining, ${r.accounts.asserted} queues declared`,
    `counts:    ${r.counts.counted} queues counted via ${r.counts.source}${r.counts.missing.length ? `, missing in RabbitMQ: ${r.counts.missing.join(' ')}` : ''}`,
    `leases:    ${r.leases.expired.length} expired${r.leases.expired.length ? ` (${r.leases.expired.join(' ')})` : ''}`,
    `deletions: ${r.deletions.removed.length} removed, ${r.deletions.waiting.length} waiting`,
    `heartbeat: ${r.heartbeat.written ? 'written' : 'NOT written'}`,
    `ledger:    ${r.ledger.pruned} consumed message ids past retention forgotten`,
    `pass:      ${r.ok ? 'ok' : 'FAILED'} in ${r.durationMs} ms`,
  ];
  for (const d of r.accounts.draining)
    lines.push(
      `  draining: ${d.id} (account gone, ${d.messages} messages still to store${d.paused ? `; PAUSED: ingest queues unpause ${d.id} so it drains` : ''})`,
    );
  for (const id of r.accounts.adopted)
    lines.push(
      `  adopted: ${id} (account gone before a pass registered its queue: drained, then removed)`,
    );
  for (const w of r.deletions.waiting)
    lines.push(`  waiting: ${w.id} (${w.reason}, ${w.messages} messages)`);
  for (const e of r.errors) lines.push(`  error in ${e.step}: ${e.error}`);
  return lines;
}

export function registerMaintain(program: Command): void {
  const cmd = program
    .command('maintain')
    .description(
      'keep the queue registry true: accounts -> queues, message counts, expired leases, deleted accounts; heartbeat for the dispatcher',
    )
    .option('--once', 'run one pass, print what it did, exit (non-zero if a step failed)')
    .option('--json', 'with --once: print the pass report as JSON')
    .addHelpText(
      'after',
      `
Examples:
  ingest maintain
  ingest maintain --interval 5s --lease-timeout 30s
  ingest maintain --once
  ingest maintain --once --json

Each pass, every step logged and counted (GET /metrics with --metrics-port):
  1. every active account gets a registry entry and a durable RabbitMQ queue
     (type --queue-type); a deactivated or removed account's queue is flagged deleted
     once it is drained (until then consumers store what it holds: nothing accepted
     is dropped)
  2. ready/unacked counts per queue (RabbitMQ management API when reachable,
     else checkQueue: ready only), stored with has_messages
  3. leases past their expiry or not renewed within --lease-timeout go back to idle
  4. deleted queues are removed from RabbitMQ once they have stayed empty for
     --delete-grace (frontends may accept for their token-cache TTL after an
     account goes), then from the registry
  5. heartbeat in Redis (<redis-prefix>maintainer:heartbeat); the dispatcher
     falls back to fifo when it is older than INGEST_HEARTBEAT_STALE
  6. consumed message ids older than --ledger-retention are forgotten (a replay
     older than that is still stored once: the readings' primary key drops it)`,
    );
  addSettings(cmd, [
    'maintainInterval',
    'leaseTimeout',
    'deleteGrace',
    'ledgerRetention',
    'pgUrl',
    'registryUrl',
    'amqpUrl',
    'managementUrl',
    'redisUrl',
    'redisPrefix',
    'queuePrefix',
    'queueType',
    'heartbeatStale',
    'metricsPort',
    'host',
  ]).action(async (flags: Flags) => {
    const { config, logger, lifecycle } = await contextFrom(cmd, 'ingest maintain');
    const { createMetricsRegistry } = await import('../../http/metrics.js');
    const { createMaintainerFromConfig, serveMetrics } = await import('../../maintainer/run.js');
    const metricsRegistry = createMetricsRegistry('maintainer');
    const maintainer = await createMaintainerFromConfig({ config, logger, metricsRegistry });
    lifecycle.defer('maintainer', () => maintainer.close());
    if (flags.once) {
      try {
        const report = await maintainer.runOnce();
        if (flags.json) printJson(report);
        else for (const l of summary(report)) info(l);
        if (!report.ok) {
          const failed = report.errors.map((e) => e.step).join(', ');
          process.stderr.write(`ingest: maintainer pass failed in: ${failed} (errors above)\n`);
          process.exitCode = 1;
        }
      } finally {
        await lifecycle.close();
      }
      return;
    }
    lifecycle.handleSignals();
    if (config.metricsPort > 0) {
      const m = await serveMetrics({
        registry: metricsRegistry,
        host: config.host,
        port: config.metricsPort,
        logger,
      });
      lifecycle.defer('metrics', () => m.close());
    }
    maintainer.start();
    await lifecycle.closed;
    await lifecycle.close();
  });
}
