import type { Command } from 'commander';
import type { QueueAction } from '../../admin/queues-actions.js';
import { QUEUE_SORTS, type QueueStatusRow } from '../../admin/queues-status.js';
import { formatDuration } from '../../core/duration.js';
import { IngestError } from '../../core/errors.js';
import { addSettings, contextFrom } from '../settings.js';
import { durationMs, oneOf } from '../flags.js';
import { info, printJson, printRows } from '../output.js';

interface Flags {
  json?: boolean;
  sort: string;
  filter?: string;
  watch?: boolean;
  interval: string;
}

const rate = (v: number | undefined): string => (v === undefined ? '-' : v.toFixed(1));

const COLUMNS: Array<[string, (r: QueueStatusRow) => string | number]> = [
  ['name', (r) => r.id],
  ['state', (r) => r.state],
  ['ready', (r) => r.ready],
  ['unacked', (r) => r.unacked],
  ['total', (r) => r.total],
  ['incoming/s', (r) => rate(r.incomingPerSec)],
  ['deliver/s', (r) => rate(r.deliverPerSec)],
  ['ack/s', (r) => rate(r.ackPerSec)],
  ['consumer', (r) => r.consumer ?? ''],
  ['lease age', (r) => (r.leaseAgeMs === null ? '' : formatDuration(r.leaseAgeMs))],
];

const CONNECTION = ['dispatcherUrl', 'adminToken'] as const;

function registerPause(parent: Command, action: QueueAction): void {
  const cmd = parent
    .command(`${action} <id>`)
    .description(
      action === 'pause'
        ? 'stop handing this queue out (its current consumer loses it at its next renew); admin'
        : 'hand this queue out again; admin',
    )
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  ingest queues ${action} D0000591
  ingest queues ${action} D0000591 --dispatcher http://10.0.0.5:8081 --admin-token "$TOKEN"`,
    );
  addSettings(cmd, [...CONNECTION]).action(async (id: string, flags: { json?: boolean }) => {
    const { config } = await contextFrom(cmd, `ingest queues ${action}`);
    const { setQueuePaused } = await import('../../admin/queues-actions.js');
    const r = await setQueuePaused(config, id, action);
    if (flags.json) printJson(r);
    else info(`queue ${r.id}: ${r.state}`);
  });
}

export function registerQueues(program: Command): void {
  const cmd = program
    .command('queues')
    .description(
      'account queues as the dispatcher sees them: state, ready/unacked/total, rates, consumer, lease age; pause and unpause',
    )
    .option('--json', 'print the rows as JSON')
    .option('--sort <key>', `order rows by ${QUEUE_SORTS.join('|')}`, 'depth')
    .option('--filter <text>', 'only queues whose name contains this (case-insensitive)')
    .option('--watch', 'live view, refreshed every --interval (q quits)')
    .option('--interval <duration>', 'refresh interval of --watch', '1s')
    .addHelpText(
      'after',
      `
Examples:
  ingest queues
  ingest queues --sort name --filter D0000
  ingest queues --watch --filter D0000
  ingest queues --json | jq '.[] | select(.total > 1000)'
  ingest queues pause D0000591
  ingest queues unpause D0000591

State: deleted > paused > busy > empty (known drained) > idle. ready/unacked come
live from the RabbitMQ management API when it is reachable (--management-url),
else from the maintainer's last count. incoming/s, deliver/s, ack/s need the
management API (rabbitmq-plugins enable rabbitmq_management); '-' otherwise.`,
    );
  addSettings(cmd, [...CONNECTION, 'managementUrl', 'amqpUrl', 'queuePrefix']).action(
    async (flags: Flags) => {
      const { config } = await contextFrom(cmd, 'ingest queues');
      const sort = oneOf('sort', flags.sort, QUEUE_SORTS);
      if (flags.watch) {
        if (!process.stdout.isTTY) {
          throw new IngestError('VALIDATION', '--watch needs a terminal; use --json for scripts');
        }
        // Loaded on demand: ink and React stay out of the plain table's start-up.
        const { runQueuesWatch } = await import('../../tui/queues-watch.js');
        return runQueuesWatch({
          config,
          intervalMs: durationMs('interval', flags.interval),
          sort,
          filter: flags.filter,
        });
      }
      const { createQueuesSampler, selectRows } = await import('../../admin/queues-status.js');
      const sampler = createQueuesSampler({ config });
      try {
        const snap = await sampler.sample();
        const rows = selectRows(snap.rows, { sort, filter: flags.filter });
        if (flags.json) return printJson(rows);
        printRows(
          rows,
          false,
          COLUMNS,
          flags.filter
            ? `(no queue matches "${flags.filter}")`
            : '(no queues: run ingest maintain)',
        );
        const d = snap.dispatcher;
        info(
          `${rows.length} queue(s) · dispatcher ${snap.dispatcherUrl} ${d.state}, strategy ${d.effectiveStrategy}${d.fallback ? ` (fallback from ${d.strategy}: maintainer heartbeat stale)` : ''} · maintainer ${d.maintainer.alive ? 'alive' : 'NOT alive'}`,
        );
        if (snap.rates.note) process.stderr.write(`note: ${snap.rates.note}\n`);
      } finally {
        sampler.close();
      }
    },
  );
  registerPause(cmd, 'pause');
  registerPause(cmd, 'unpause');
}
