/**
 * How a command names dead letters: by message id, or (with one --kind) by the
 * 1-based position `deadletters list` shows, written `#N` or plain `N`. Every
 * name is resolved before anything is touched, so one unknown name fails the
 * whole command instead of leaving it half done.
 */
import { IngestError } from '../core/errors.js';
import type { DeadKind } from './dead-letter-queues.js';

export interface Nameable {
  kind: DeadKind;
  index: number;
  messageId: string | null;
}

const POSITION = /^#?(\d+)$/;

export function notFound(ref: string): IngestError {
  return new IngestError(
    'NOT_FOUND',
    `no dead letter "${ref}" (ingest deadletters list shows ids)`,
  );
}

/** The letters one name stands for: every message with that id, else the one at that position. */
function matchOne<T extends Nameable>(
  kind: DeadKind | 'all',
  ref: string,
  letters: readonly T[],
): T[] {
  const byId = letters.filter((d) => d.messageId === ref);
  if (byId.length > 0) return byId;
  const pos = POSITION.exec(ref);
  if (!pos) throw notFound(ref);
  // Positions restart at 1 in each queue: without --kind, "#2" could be either.
  if (kind === 'all')
    throw new IngestError(
      'VALIDATION',
      `"${ref}" is a position: say which queue with --kind readings or --kind alerts`,
    );
  const at = letters.find((d) => d.kind === kind && d.index === Number(pos[1]));
  if (!at) throw notFound(ref);
  return [at];
}

/** The letters the names stand for, each once, in queue order; throws on the first unknown name. */
export function matchDeadLetters<T extends Nameable>(
  kind: DeadKind | 'all',
  refs: readonly string[],
  letters: readonly T[],
): T[] {
  const hit = new Set<T>();
  for (const ref of refs) for (const d of matchOne(kind, ref, letters)) hit.add(d);
  return letters.filter((d) => hit.has(d));
}
