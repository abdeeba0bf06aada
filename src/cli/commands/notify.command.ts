import type { Command } from 'commander';
import { addSettings, contextFrom } from '../settings.js';
import { wholeNumber } from '../flags.js';

export function registerNotify(program: Command): void {
  const cmd = program
    .command('notify')
    .description(
      'deliver alert notifications to their HTTP endpoints: Idempotency-Key, HMAC signature, retries with exponential backoff through TTL delay queues, then alerts.dead',
    )
    .option('--concurrency <n>', 'notifications delivered at once', '8')
    .addHelpText(
      'after',
      `
Examples:
  ingest notify
  ingest notify --retries 8 --retry-delay 2s --timeout 10s --metrics-port 9102

Each notification is POSTed as JSON with headers Idempotency-Key (the same on
every attempt: rule + reading) and, when the endpoint has a secret,
X-Ingest-Signature: sha256=<hex HMAC-SHA256 of the body>. A non-2xx answer or a
timeout schedules the next attempt after --retry-delay, doubling each time;
after --retries attempts the notification goes to <prefix>alerts.dead. Every
attempt is recorded: ingest alerts deliveries [--failed].`,
    );
  addSettings(cmd, [
    'notifyRetries',
    'notifyRetryDelay',
    'notifyTimeout',
    'metricsPort',
    'pgUrl',
    'amqpUrl',
    'queuePrefix',
    'queueType',
    'publishTimeout',
    'host',
  ]).action(async (flags: { concurrency: string }) => {
    const ctx = await contextFrom(cmd, 'ingest notify');
    const concurrency = wholeNumber('concurrency', flags.concurrency);
    const { runNotifier } = await import('../../notifier/run.js');
    ctx.lifecycle.handleSignals();
    try {
      await runNotifier(ctx, { concurrency, metricsPort: ctx.config.metricsPort });
      await ctx.lifecycle.closed;
    } finally {
      await ctx.lifecycle.close();
    }
  });
}
