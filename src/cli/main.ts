/** The `ingest` entry point: parse, run, and turn failures into one clear line. */
import { CommanderError } from 'commander';
import { isIngestError, errorMessage } from '../core/errors.js';
import { createProgram } from './program.js';

async function main(): Promise<void> {
  const program = createProgram();
  program.exitOverride();
  try {
    await program.parseAsync(process.argv);
    // Done (every command's action returns only when its work is): a driver still winding
    // down a connection (ioredis after an unreachable Redis) must not hold the exit.
    setTimeout(() => process.exit(), 500).unref();
  } catch (err) {
    // The error is reported below: a connection a failed command left open (a driver still
    // retrying) must not keep the process alive, and supervisors need the exit code.
    setTimeout(() => process.exit(), 3_000).unref();
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    if (isIngestError(err)) {
      process.stderr.write(`ingest: ${err.message}\n`);
      process.exitCode = exitCodeOf(err.code, err.status);
      return;
    }
    process.stderr.write(`ingest: ${errorMessage(err)}\n`);
    if (process.env.INGEST_DEBUG) process.stderr.write(`${(err as Error).stack ?? ''}\n`);
    process.exitCode = 1;
  }
}

/**
 * 1: the command cannot run as asked (bad flag or setting, unknown name, refused input, a
 * setup step missing); 2: a service failed or was unavailable; 130: stopped by a signal.
 */
function exitCodeOf(code: string, status: number): number {
  if (code === 'INTERRUPTED') return 130;
  if (code === 'CONFIG_INVALID') return 1;
  return status >= 500 ? 2 : 1;
}

void main();
