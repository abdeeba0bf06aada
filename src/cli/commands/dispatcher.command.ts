import type { Command } from 'commander';
import type { DispatcherAction } from '../../admin/queues-actions.js';
import type { DispatcherStatus } from '../../dispatcher/client.js';
import { formatDuration } from '../../core/duration.js';
import { addSettings, contextFrom } from '../settings.js';
import { info, printJson } from '../output.js';

const CONNECTION = ['dispatcherUrl', 'adminToken'] as const;

function describe(url: string, d: DispatcherStatus): string[] {
  return [
    `dispatcher: ${url}`,
    `state:      ${d.state}`,
    `strategy:   ${d.effectiveStrategy}${d.fallback ? ` (configured ${d.strategy}; falling back to fifo: maintainer heartbeat stale)` : ''}`,
    `maintainer: ${d.maintainer.alive ? 'alive' : 'NOT alive'}${d.maintainer.ageMs === null ? ' (no heartbeat)' : `, last heartbeat ${formatDuration(d.maintainer.ageMs)} ago`} (stale after ${formatDuration(d.maintainer.staleAfterMs)})`,
    `lease:      ${formatDuration(d.leaseTimeoutMs)}`,
  ];
}

function registerAction(group: Command, action: DispatcherAction): void {
  const cmd = group
    .command(action)
    .description(
      action === 'stop'
        ? 'stop handing out queues (every replica: the flag lives in the registry); release and renew keep working; admin'
        : 'hand out queues again; admin',
    )
    .option('--json', 'print the dispatcher state as JSON')
    .addHelpText(
      'after',
      `
Examples:
  ingest dispatcher ${action}
  ingest dispatcher ${action} --dispatcher http://10.0.0.5:8081 --admin-token "$TOKEN"`,
    );
  addSettings(cmd, [...CONNECTION]).action(async (flags: { json?: boolean }) => {
    const { config } = await contextFrom(cmd, `ingest dispatcher ${action}`);
    const { setDispatcherRunning } = await import('../../admin/queues-actions.js');
    const d = await setDispatcherRunning(config, action);
    if (flags.json) printJson(d);
    else info(`dispatcher ${config.dispatcherUrl}: ${d.state}`);
  });
}

export function registerDispatcher(program: Command): void {
  const group = program
    .command('dispatcher')
    .description('control a running dispatcher over its HTTP API: stop, start, status');
  registerAction(group, 'stop');
  registerAction(group, 'start');
  const status = group
    .command('status')
    .description('dispatcher state, strategy (and fallback), maintainer liveness, queue totals')
    .option('--json', 'print the full GET /queue/status answer as JSON')
    .addHelpText(
      'after',
      `
Examples:
  ingest dispatcher status
  ingest dispatcher status --json | jq .dispatcher`,
    );
  addSettings(status, [...CONNECTION]).action(async (flags: { json?: boolean }) => {
    const { config } = await contextFrom(status, 'ingest dispatcher status');
    const { dispatcherStatus } = await import('../../admin/queues-actions.js');
    const { url, status: s } = await dispatcherStatus(config);
    if (flags.json) return printJson(s);
    for (const l of describe(url, s.dispatcher)) info(l);
    const t = s.totals;
    info(
      `queues:     ${t.queues} (${t.busy} busy, ${t.paused} paused, ${t.deleted} deleted), ${t.messages} messages at the maintainer's last count`,
    );
  });
}
