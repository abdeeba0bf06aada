/**
 * Run a long job that cleans up after itself (a load test's sandbox): the first
 * SIGINT/SIGTERM aborts its signal, so it stops and its cleanup runs; a second
 * exits at once. Without this, Node's default handler would exit mid-run and
 * leave the sandbox behind.
 */
import { onSignals } from '../core/lifecycle.js';
import { interrupted } from '../loadtest/interrupt.js';

export async function interruptible<T>(
  what: string,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const ac = new AbortController();
  const remove = onSignals(
    (signal) => {
      process.stderr.write(
        `ingest: ${signal}: stopping the ${what} and cleaning up (send it again to exit at once)\n`,
      );
      ac.abort();
    },
    (signal) => process.stderr.write(`ingest: ${signal} again: exiting now, without cleaning up\n`),
  );
  try {
    // A run that finished (the signal came during its clean-up) still has its report.
    return await run(ac.signal);
  } catch (err) {
    // Whatever a stopped run threw on its way out, it was stopped: exit 130.
    if (ac.signal.aborted) throw interrupted();
    throw err;
  } finally {
    remove();
  }
}
