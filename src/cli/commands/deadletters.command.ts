import type { Command } from 'commander';
import type { DeadLetter, createDeadLetters } from '../../deadletters/dead-letters.js';
import type { DeadKind } from '../../deadletters/dead-letter-queues.js';
import { addSettings, contextFrom } from '../settings.js';
import { oneOf, wholeNumber } from '../flags.js';
import { info, printJson, printRows } from '../output.js';

const KINDS: ReadonlyArray<DeadKind | 'all'> = ['readings', 'alerts', 'all'];
const kindOf = (v: string): DeadKind | 'all' => oneOf('kind', v, KINDS);
const limitOf = (v: string): number => wholeNumber('limit', v, { max: 100_000 });

type DeadLetters = ReturnType<typeof createDeadLetters>;

/** The broker modules load only when a subcommand runs. */
async function withDeadLetters<T>(cmd: Command, fn: (d: DeadLetters) => Promise<T>): Promise<T> {
  const { config, logger } = await contextFrom(cmd, 'ingest deadletters');
  const { createAmqpConnection } = await import('../../adapters/rabbitmq/connection.js');
  const { createConfirmPublisher } = await import('../../adapters/rabbitmq/confirm-publisher.js');
  const { createDeadLetters } = await import('../../deadletters/dead-letters.js');
  const conn = createAmqpConnection({ url: config.amqpUrl, logger, name: 'ingest-deadletters' });
  try {
    await conn.ready(5_000);
    const publisher = createConfirmPublisher(conn, { channels: 1, logger });
    try {
      return await fn(createDeadLetters({ conn, publisher, config }));
    } finally {
      await publisher.close();
    }
  } finally {
    await conn.close();
  }
}

function preview(s: string, n = 60): string {
  const one = s.replace(/\s+/g, ' ');
  return one.length > n ? `${one.slice(0, n)}…` : one;
}

export function registerDeadletters(program: Command): void {
  const group = program
    .command('deadletters')
    .description(
      'inspect and requeue dead letters: readings messages that could not be stored (<prefix>readings.dead) and notifications out of retries (<prefix>alerts.dead), with their reasons',
    )
    .addHelpText(
      'after',
      `
Examples:
  ingest deadletters list
  ingest deadletters list --kind alerts --json
  ingest deadletters show 3f2a9c... --kind readings
  ingest deadletters show '#2' --kind readings
  ingest deadletters requeue 3f2a9c... 81b0d2...
  ingest deadletters requeue --kind alerts --all

A dead letter keeps its original body and headers; x-dead-reason says why,
x-dead-queue where it came from. Requeue puts it back there (a notification
starts again at attempt 1) after you fixed the cause.`,
    );
  const common = (c: Command): Command =>
    addSettings(
      c
        .option('--kind <kind>', 'readings, alerts or all', 'all')
        .option('--limit <n>', 'look at most at this many messages per queue', '1000'),
      ['amqpUrl', 'queuePrefix', 'publishTimeout'],
    );

  const list = common(
    group
      .command('list')
      .description('list dead letters with their reasons')
      .option('--json', 'print JSON'),
  );
  list.action(async (f: { kind: string; limit: string; json?: boolean }) => {
    const rows = await withDeadLetters(list, (d) => d.list(kindOf(f.kind), limitOf(f.limit)));
    if (f.json)
      return printJson(rows.map(({ body, ...rest }) => ({ ...rest, body: preview(body, 500) })));
    printRows<DeadLetter>(
      rows,
      false,
      [
        ['kind', (r) => r.kind],
        ['#', (r) => r.index],
        ['id', (r) => r.messageId],
        ['from', (r) => r.fromQueue],
        ['source', (r) => r.source],
        ['dead at', (r) => r.deadAt],
        ['reason', (r) => preview(r.reason, 70)],
      ],
      '(no dead letters)',
    );
  });

  const show = common(
    group
      .command('show')
      .argument('<id>', 'message id (or #position with --kind)')
      .description('one dead letter in full')
      .option('--json', 'print JSON'),
  );
  show.action(async (id: string, f: { kind: string; limit: string; json?: boolean }) => {
    const d = await withDeadLetters(show, (x) => x.show(kindOf(f.kind), id, limitOf(f.limit)));
    if (f.json) return printJson(d);
    let body = d.body;
    try {
      body = JSON.stringify(JSON.parse(d.body), null, 2);
    } catch {
      // Not JSON (that may be why it is here): show it as it is.
    }
    info(
      `kind:     ${d.kind}\nid:       ${d.messageId ?? ''}\nfrom:     ${d.fromQueue}\ndead at:  ${d.deadAt ?? ''}\nreason:   ${d.reason}\nheaders:  ${JSON.stringify(d.headers)}\nbody (${d.bytes} bytes):\n${body}`,
    );
  });

  const requeue = common(
    group
      .command('requeue')
      .argument('[ids...]', 'message ids (or #positions with --kind)')
      .option('--all', 'requeue every dead letter of --kind')
      .description('put dead letters back on the queue they came from'),
  );
  requeue.action(async (ids: string[], f: { kind: string; limit: string; all?: boolean }) => {
    const done = await withDeadLetters(requeue, (d) =>
      d.requeue(kindOf(f.kind), ids, { all: f.all === true, limit: limitOf(f.limit) }),
    );
    // An unknown id has already failed the command (nothing requeued) before this point.
    info(`${done.length} dead letter(s) requeued`);
    for (const d of done) info(`  ${d.kind} ${d.messageId ?? `#${d.index}`} -> ${d.fromQueue}`);
  });
}
