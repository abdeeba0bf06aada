import type { Command } from 'commander';
import { addSettings, contextFrom } from '../settings.js';
import { info, printJson } from '../output.js';

export function registerDb(program: Command): void {
  const db = program.command('db').description('database administration');
  const cmd = db
    .command('migrate')
    .description('create the database if missing and apply pending schema migrations')
    .option('--json', 'print the result as JSON');
  addSettings(cmd, ['pgUrl']).action(async (opts: { json?: boolean }) => {
    const { config } = await contextFrom(cmd);
    const { migrate } = await import('../../adapters/postgres/migrate.js');
    const { databaseName } = await import('../../adapters/postgres/pool.js');
    const result = await migrate(config.pgUrl);
    if (opts.json) return printJson(result);
    const name = databaseName(config.pgUrl);
    if (result.createdDatabase) info(`created database ${name}`);
    info(
      result.applied.length
        ? `applied ${result.applied.length} migration(s) to ${name}: ${result.applied.join(', ')}`
        : `database ${name} is up to date (${result.current.length} migrations)`,
    );
  });
}
