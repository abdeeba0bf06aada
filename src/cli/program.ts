import { Command, Option } from 'commander';
import { COMMANDS } from './commands/index.js';

export function createProgram(): Command {
  const program = new Command('ingest')
    .description(
      'Run, inspect and load-test the meter-readings ingestion pipeline:\n' +
        'frontend -> per-account RabbitMQ queues -> dispatcher -> consumers -> PostgreSQL, with alerts.',
    )
    .version('0.1.0')
    .addOption(
      new Option('--log-level <level>', 'log level [env INGEST_LOG_LEVEL]').choices([
        'fatal',
        'error',
        'warn',
        'info',
        'debug',
        'trace',
        'silent',
      ]),
    )
    .addOption(
      new Option('--log-format <format>', 'log format [env INGEST_LOG_FORMAT]').choices([
        'auto',
        'json',
        'pretty',
      ]),
    )
    // Usage errors read like every other failure, on one line: "ingest: ... (add --help for
    // usage)" (commander says "error: ...").
    .configureOutput({
      outputError: (text, write) =>
        write(text.replace(/^error: /, 'ingest: ').replace(/\n?$/, ' (add --help for usage)\n')),
    })
    .configureHelp({
      sortSubcommands: false,
      showGlobalOptions: true,
      // Only the program's own options are global: a parent command's options (the
      // `queues` table's --sort, --watch, ...) are not options of its subcommands.
      visibleGlobalOptions(cmd) {
        if (!cmd.parent) return [];
        let root = cmd.parent;
        while (root.parent) root = root.parent;
        return root.options.filter((o) => !o.hidden);
      },
    });
  for (const register of COMMANDS) register(program);
  return program;
}
