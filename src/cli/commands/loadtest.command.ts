/**
 * `ingest loadtest <target>`: one group; each target registers its own
 * subcommand from its own module (frontend, dispatcher, pipeline).
 */
import type { Command } from 'commander';
import { registerLoadtestFrontend } from './loadtest-frontend.command.js';
import { registerLoadtestDispatcher } from './loadtest-dispatcher.command.js';
import { registerLoadtestPipeline } from './loadtest-pipeline.command.js';

export function registerLoadtest(program: Command): void {
  const group = program
    .command('loadtest')
    .description(
      'load-test a component on this machine (loopback only, bounded in time and count)',
    );
  registerLoadtestFrontend(group);
  registerLoadtestDispatcher(group);
  registerLoadtestPipeline(group);
}
