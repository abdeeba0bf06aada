/**
 * `ingest <group> disable <id>` and `ingest <group> enable <id>`: one command
 * pair over PostgreSQL provisioning (accounts, gateways), printing the changed
 * row as JSON with --json or one line otherwise.
 */
import type { Command } from 'commander';
import type { Provisioning } from '../provisioning/provisioning.js';
import { addSettings, contextFrom } from './settings.js';
import { info, printJson } from './output.js';
import { withProvisioning } from './with-pg.js';

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
}

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
    addSettings(cmd, ['pgUrl']).action(async (id: string, opts: { json?: boolean }) => {
      const { config } = await contextFrom(cmd);
      const row = await withProvisioning(config, (p) => spec.set(p, id, enabled));
      if (opts.json) return printJson(row);
      info(spec.done(row, enabled));
    });
  }
}
