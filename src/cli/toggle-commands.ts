/**
 * `ingest <group> disable <id>` and `ingest <group> enable <id>`: one command
 * pair over PostgreSQL provisioning (accounts, gateways), printing the changed
 * row as JSON with --json or one line otherwise.
 */
import type { Command } from 'commander';
import type { Provisioning } from '../provisioning/provisioning.js';
import type { SettingKey } from '../core/config.js';
import { addSettings, contextFrom } from './settings.js';
import { info, printJson } from './output.js';
import { withProvisioning, withProvisioningAndBroker } from './with-pg.js';

export interface ToggleSpec<T> {
  /** The argument, e.g. '<id>'. */
  arg: string;
  /** An example value of the argument for the help. */
  example: string;
  /** Help of the --json flag. */
  jsonHelp: string;
  describe(enabled: boolean): string;
  set(p: Provisioning, id: string, enabled: boolean): Promise<T>;
  /** The line printed without --json. */
  done(row: T, enabled: boolean): string;
  /** Enabling needs RabbitMQ too (accounts: their queue is declared again). */
  enableDeclaresQueue?: boolean;
  /** A warning for stderr about the changed row, if any. */
  warning?(row: T): string | undefined;
}

const BROKER_SETTINGS: SettingKey[] = ['amqpUrl', 'queuePrefix', 'queueType'];

export function registerToggles<T>(group: Command, spec: ToggleSpec<T>): void {
  for (const [name, enabled] of [
    ['disable', false],
    ['enable', true],
  ] as const) {
    const cmd = group
      .command(`${name} ${spec.arg}`)
      .description(spec.describe(enabled))
      .option('--json', spec.jsonHelp)
      .addHelpText('after', `\nExample:\n  ingest ${group.name()} ${name} ${spec.example}`);
    const broker = enabled && spec.enableDeclaresQueue === true;
    addSettings(cmd, ['pgUrl', ...(broker ? BROKER_SETTINGS : [])]).action(
      async (id: string, opts: { json?: boolean }) => {
        const { config, logger } = await contextFrom(cmd);
        const set = (p: Provisioning): Promise<T> => spec.set(p, id, enabled);
        const row = broker
          ? await withProvisioningAndBroker(config, logger, set)
          : await withProvisioning(config, set);
        if (opts.json) return printJson(row);
        info(spec.done(row, enabled));
        const warning = spec.warning?.(row);
        if (warning) process.stderr.write(`ingest: warning: ${warning}\n`);
      },
    );
  }
}

/** `ingest <group> remove <id>`: delete a provisioned row, one line on success. */
export function registerRemove(
  group: Command,
  spec: {
    arg: string;
    example: string;
    description: string;
    remove(p: Provisioning, id: string): Promise<void>;
    done(id: string): string;
  },
): void {
  const cmd = group
    .command(`remove ${spec.arg}`)
    .description(spec.description)
    .addHelpText('after', `\nExample:\n  ingest ${group.name()} remove ${spec.example}`);
  addSettings(cmd, ['pgUrl']).action(async (id: string) => {
    const { config } = await contextFrom(cmd);
    await withProvisioning(config, (p) => spec.remove(p, id));
    info(spec.done(id));
  });
}
