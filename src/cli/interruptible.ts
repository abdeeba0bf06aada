/**
 * Run a long job that cleans up after itself (a load test's sandbox): the first
 * SIGINT/SIGTERM aborts its signal, so it stops and its cleanup runs; a second
 * exits at once. Without this, Node's default handler would exit mid-run and
 * leave the sandbox behind.
 */
import { interrupted } from '../loadtest/interrupt.js';

export async function interruptible<T>(
  what: string,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const ac = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (ac.signal.aborted) {
      process.stderr.write(`ingest: ${signal} again: exiting now, without cleaning up\n`);
      process.exit(130);
    }
    process.stderr.write(
      `ingest: ${signal}: stopping the ${what} and cleaning up (send it again to exit at once)\n`,
    );
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // A run that finished (the signal came during its clean-up) still has its report.
    return await run(ac.signal);
  } catch (err) {
    // Whatever a stopped run threw on its way out, it was stopped: exit 130.
    if (ac.signal.aborted) throw interrupted();
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
