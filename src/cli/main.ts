/** The `ingest` entry point: parse, run, and turn failures into one clear line. */
import { CommanderError } from 'commander';
import { isIngestError, errorMessage } from '../core/errors.js';
import { createProgram } from './program.js';

async function main(): Promise<void> {
  const program = createProgram();
  program.exitOverride();
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    if (isIngestError(err)) {
      process.stderr.write(`ingest: ${err.message}\n`);
      process.exitCode = err.code === 'INTERRUPTED' ? 130 : err.status >= 500 ? 2 : 1;
      return;
    }
    process.stderr.write(`ingest: ${errorMessage(err)}\n`);
    if (process.env.INGEST_DEBUG) process.stderr.write(`${(err as Error).stack ?? ''}\n`);
    process.exitCode = 1;
  }
}

void main();
