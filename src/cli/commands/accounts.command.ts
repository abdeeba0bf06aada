import type { Command } from 'commander';
import { addSettings, contextFrom } from '../settings.js';
import { info, printJson, printRows } from '../output.js';
import { withProvisioning, withProvisioningAndBroker } from '../with-pg.js';
import type { QueueDeclaration } from '../../provisioning/provisioning.js';
import { registerRemove, registerToggles } from '../toggle-commands.js';

const PG = ['pgUrl'] as const;

export function registerAccounts(program: Command): void {
  const accounts = program
    .command('accounts')
    .description('provision accounts (deployments) in PostgreSQL, the system of record')
    .addHelpText(
      'after',
      `
Examples:
  ingest accounts add D0000591 --name "Plant 591"
  ingest accounts list --json
  ingest accounts disable D0000591`,
    );

  const add = accounts
    .command('add <id>')
    .description(
      'create an account and declare its durable RabbitMQ queue (the queue is left to the maintainer when RabbitMQ is unreachable)',
    )
    .option('--name <name>', 'display name', '')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExample:\n  ingest accounts add D0000591 --name "Plant 591"');
  addSettings(add, ['pgUrl', 'amqpUrl', 'queuePrefix', 'queueType']).action(
    async (id: string, opts: { name: string; json?: boolean }) => {
      const { config, logger } = await contextFrom(add);
      const out = await withProvisioningAndBroker(config, logger, (p) =>
        p.addAccount({ id, name: opts.name }),
      );
      if (opts.json) return printJson(out);
      info(`account ${out.account.id} created`);
      if (out.queue?.declared)
        info(`queue ${out.queue.name} declared (${config.queueType}, durable)`);
      const warning = queueWarning(out.queue);
      if (warning) process.stderr.write(`ingest: warning: ${warning}\n`);
    },
  );

  const list = accounts
    .command('list')
    .description('list accounts with their state and number of gateways')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExample:\n  ingest accounts list --json');
  addSettings(list, PG).action(async (opts: { json?: boolean }) => {
    const { config } = await contextFrom(list);
    const rows = await withProvisioning(config, (p) => p.listAccounts());
    printRows(
      rows,
      opts.json,
      [
        ['account', (a) => a.id],
        ['name', (a) => a.name],
        ['active', (a) => (a.active ? 'yes' : 'NO')],
        ['gateways', (a) => a.gateways],
        ['created', (a) => a.createdAt],
      ],
      '(no accounts: ingest accounts add <id>)',
    );
  });

  registerToggles(accounts, {
    arg: '<id>',
    example: 'D0000591',
    jsonHelp: 'print the account as JSON',
    describe: (active) =>
      active
        ? 'reactivate an account: its queue is declared again and its gateways are accepted again (within the token-cache TTL after sync-cache)'
        : 'deactivate an account: its gateways get 403 (within the token-cache TTL after sync-cache); readings it already sent are still stored, and its queue goes once drained',
    set: (p, id, active) => p.setAccountActive(id, active),
    done: (a, active) => `account ${a.id} ${active ? 'enabled' : 'disabled'}`,
    enableDeclaresQueue: true,
    warning: (a) => queueWarning(a.queue),
  });

  registerRemove(accounts, {
    arg: '<id>',
    example: 'D0000592',
    description:
      'delete an account (a mistake, or one gone for good): refused while it has gateways or alert rules; its stored readings stay; the maintainer drains its queue, then removes it',
    remove: (p, id) => p.removeAccount(id),
    done: (id) => `account ${id} removed (its queue is the maintainer's to drain and remove)`,
  });
}

/** A queue that could not be declared now is the maintainer's to create (its next pass). */
function queueWarning(queue: QueueDeclaration | undefined): string | undefined {
  if (!queue || queue.declared) return undefined;
  return `could not declare queue ${queue.name} (${queue.error}); the maintainer (ingest maintain) will create it`;
}
