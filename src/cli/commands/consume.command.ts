import type { Command } from 'commander';
import { IngestError } from '../../core/errors.js';
import { WRITE_PATHS } from '../../consumer/readings-store.js';
import { ONCE_GIVE_UP_MS, type LoopProblems } from '../../consumer/consumer-loop.js';
import { addSettings, contextFrom } from '../settings.js';
import { info } from '../output.js';
import { durationMs, oneOf, wholeNumber } from '../flags.js';

interface Flags {
  once?: boolean;
  giveUp: string;
  prefetch: string;
  writers: string;
  writePath: string;
}

export function registerConsume(program: Command): void {
  const cmd = program
    .command('consume')
    .description(
      'ask the dispatcher for account queues, store their readings in PostgreSQL exactly once (ack after commit), publish alert notifications, dead-letter bad messages',
    )
    .option(
      '--once',
      'drain until the dispatcher has no queue with messages to hand out, then exit with a summary (batch jobs, tests); queues another consumer holds are left to it. Exits 2 when a queue could not be drained, or after --give-up of a failing dispatcher (unreachable, stopped) or of nothing but failed drains',
    )
    .option(
      '--give-up <duration>',
      'with --once: how long a failing dispatcher or nothing but failed drains is waited out before exiting 2',
      `${ONCE_GIVE_UP_MS / 1000}s`,
    )
    .option(
      '--prefetch <n>',
      "largest prefetch window per queue; the window is sized to ~8 MB of that queue's messages (256 MB shared among the queues when more than 32 are drained at once)",
      '1000',
    )
    .option(
      '--writers <n>',
      'storage transactions at once; messages of all drained queues are grouped into them',
      '2',
    )
    .option(
      '--write-path <path>',
      `how rows are written (${WRITE_PATHS.join('|')}); copy is NOT idempotent, benchmarks only`,
      'copy-ledger',
    )
    .addHelpText(
      'after',
      `
Examples:
  ingest consume
  ingest consume --concurrency 4 --batch 1000 --metrics-port 9101
  ingest consume --dispatcher http://10.0.0.5:8081 --once

Each worker asks POST /queue/next (waiting there up to 2 s for a queue with
messages rather than taking a known-empty one), drains up to --batch messages
(or 5 s) from that account's queue, writes several messages per transaction,
acks only after commit, renews the lease meanwhile (a 409 stops it: queue
paused or deleted) and hands the queue back. Messages that cannot be parsed or validated go to
<prefix>readings.dead with the reason (see: ingest deadletters list). SIGTERM
finishes the batch in flight and releases the queues; a killed consumer loses
nothing (unacked messages return; the message ledger and primary key make the
replay a no-op).`,
    );
  addSettings(cmd, [
    'dispatcherUrl',
    'consumerConcurrency',
    'consumerBatch',
    'metricsPort',
    'pgUrl',
    'amqpUrl',
    'queuePrefix',
    'queueType',
    'leaseTimeout',
    'publishTimeout',
    'adminToken',
    'host',
  ]).action(async (flags: Flags) => {
    const ctx = await contextFrom(cmd, 'ingest consume');
    const prefetch = wholeNumber('prefetch', flags.prefetch);
    const writers = wholeNumber('writers', flags.writers);
    const writePath = oneOf('write-path', flags.writePath, WRITE_PATHS);
    const giveUpAfterMs = durationMs('give-up', flags.giveUp, {
      minMs: 1_000,
      maxMs: 86_400_000,
      hint: 'between 1s and 24h',
    });
    const { config, lifecycle } = ctx;
    const { runConsumer } = await import('../../consumer/run.js');
    lifecycle.handleSignals();
    try {
      const handle = await runConsumer(ctx, {
        concurrency: config.consumerConcurrency,
        batch: config.consumerBatch,
        once: flags.once === true,
        giveUpAfterMs,
        prefetch,
        writers,
        writePath,
        metricsPort: config.metricsPort,
      });
      await Promise.race([handle.loop.done, lifecycle.closed]);
      if (flags.once) {
        const t = handle.totals();
        // The batch job's result: on stdout, whatever the log level or format.
        const taken = t.messages + t.alreadyStored;
        info(
          `drained: ${count(taken, 'message')}${t.alreadyStored ? ` (${t.alreadyStored} already stored)` : ''}, ${t.values} values stored, ${t.duplicateValues} duplicate values skipped, ${t.deadLettered} dead-lettered`,
        );
        const failure = onceFailure(handle.loop.problems(), config.dispatcherUrl, giveUpAfterMs);
        if (failure) throw failure;
      }
    } finally {
      await lifecycle.close();
    }
  });
}

/** --once did not finish: the dispatcher never answered, or queues could not be drained. */
function onceFailure(
  p: LoopProblems,
  dispatcherUrl: string,
  giveUpAfterMs: number,
): IngestError | undefined {
  const giveUp = `${Math.round(giveUpAfterMs / 1000)} s`;
  if (p.gaveUp?.reason === 'stopped')
    return new IngestError(
      'DISPATCHER_STOPPED',
      `--once gave up after ${giveUp}: the dispatcher at ${dispatcherUrl} is stopped (ingest dispatcher start); nothing more was drained`,
    );
  if (p.gaveUp?.reason === 'drains') {
    const queues = p.failedQueues.map((f) => f.queue).join(' ');
    return new IngestError(
      'INTERNAL',
      `--once gave up after ${giveUp} of failed drains (${p.gaveUp.error}); messages stay queued${queues ? ` in ${queues}` : ''} for the next run`,
    );
  }
  if (p.gaveUp)
    return new IngestError(
      'DISPATCHER_UNREACHABLE',
      `--once gave up after ${giveUp}: ${p.gaveUp.error}`,
    );
  if (p.failedQueues.length === 0) return undefined;
  const list = p.failedQueues.map((f) => `${f.queue} (${f.error})`).join(', ');
  return new IngestError(
    'INTERNAL',
    `${p.failedQueues.length} queue(s) could not be drained, their messages stay queued for the next run: ${list}`,
  );
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
