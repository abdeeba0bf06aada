/**
 * Load tests stop early when their signal is aborted (Ctrl-C in the CLI): each
 * checks between phases and stops its loops, so that its own cleanup (the
 * sandbox database, queues, Redis keys) runs before the process exits.
 */
import { IngestError } from '../core/errors.js';

export function interrupted(): IngestError {
  return new IngestError('INTERRUPTED', 'interrupted: stopped early, sandbox removed');
}

export function throwIfInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw interrupted();
}
