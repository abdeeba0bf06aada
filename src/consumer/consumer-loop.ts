/**
 * The consumer loop: ask the dispatcher for a queue (handing back the one just
 * drained, and whether it was empty), drain it while renewing the lease, and
 * repeat; N such workers run side by side. The loop only sees the dispatcher
 * client and a drain function, never a driver.
 */
import { setMaxListeners } from 'node:events';
import type { DispatcherClient, NextGrant } from '../dispatcher/client.js';
import { errorMessage, isIngestError } from '../core/errors.js';
import { backoffDelay, sleep } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import type { DrainJob, DrainResult } from './queue-drainer.js';

/** failing: reachable, but answering errors of its own (its registry database away, say). */
export type DispatcherState = 'unknown' | 'ok' | 'stopped' | 'unreachable' | 'failing';

export interface ConsumerLoopDeps {
  dispatcher: Pick<DispatcherClient, 'next' | 'release' | 'renew'>;
  drain(job: Omit<DrainJob, 'queue'> & { account: string }): Promise<DrainResult>;
  logger: Logger;
  /** Consumer name the dispatcher records. */
  name: string;
  onDispatcherState?(state: DispatcherState): void;
  onDrained?(e: { account: string; result: DrainResult | undefined; error?: unknown }): void;
}

export interface ConsumerLoopOptions {
  concurrency: number;
  /** Exit when no queue has messages. */
  once: boolean;
  renewEveryMs: number;
  /**
   * Long-poll (ms): the dispatcher holds "next" up to this long for a queue with messages
   * instead of handing out a known-empty one (0: ask and answer at once).
   */
  waitMs?: number;
  /** Time between two asks after "nothing to hand out" (doubles up to 8x while idle). */
  idlePollMs: number;
  /**
   * Pause after two leases in a row found empty (doubles up to 16x): the
   * dispatcher hands out known-empty queues when nothing else is idle, and a
   * worker cycling through them would keep the broker and the registry busy
   * for nothing. 0 never pauses.
   */
  emptyPauseMs: number;
  /**
   * With `once`: stop when the dispatcher has answered nothing but errors (unreachable,
   * stopped), or every drain has failed, for this long, instead of retrying forever
   * (0: never give up).
   */
  giveUpAfterMs?: number;
}

/** Why a run (`once`) did not finish its work: said by the caller, with a non-zero exit. */
export interface LoopProblems {
  /**
   * Nothing worked for longer than giveUpAfterMs: the dispatcher was stopped or unreachable,
   * or every drain failed (the database or the broker away), with the last error.
   */
  gaveUp?: { reason: 'stopped' | 'unreachable' | 'failing' | 'drains'; error: string };
  /** Queues whose last drain failed (their messages stay queued). */
  failedQueues: Array<{ queue: string; error: string }>;
}

/** How long `ingest consume --once` waits for a dispatcher that fails before it gives up. */
export const ONCE_GIVE_UP_MS = 30_000;

/** A run of consecutive failures of one kind: its back-off, and whether to give up. */
function failureRun(giveUpAfterMs: number): {
  ok(): void;
  /** Count a failure (the run began at `at` if this is its first); true: give up now. */
  fail(at?: number): boolean;
  backoff(): number;
} {
  let count = 0;
  let since: number | undefined;
  return {
    ok() {
      count = 0;
      since = undefined;
    },
    fail(at = Date.now()) {
      count += 1;
      since ??= at;
      return giveUpAfterMs > 0 && Date.now() - since >= giveUpAfterMs;
    },
    backoff: () => backoffDelay(count, 200, 5_000),
  };
}

/** A "next" outstanding this long is parked in a long-poll (a plain answer takes milliseconds). */
const PARKED_MS = 100;

export interface ConsumerLoop {
  /** Resolves when every worker has stopped (after stop(), or when --once is done). */
  readonly done: Promise<void>;
  /** Finish in-flight batches, give queues back, stop. Idempotent. */
  stop(): Promise<void>;
  /** What kept the loop from finishing its work, as of now. */
  problems(): LoopProblems;
}

export function startConsumerLoop(deps: ConsumerLoopDeps, opts: ConsumerLoopOptions): ConsumerLoop {
  const stopping = new AbortController();
  // Every worker listens on it while it holds a lease (and in its sleeps): more
  // than the default 10 is expected, not a leak.
  setMaxListeners(2 * Math.max(1, opts.concurrency) + 10, stopping.signal);
  let state: DispatcherState = 'unknown';
  const waitMs = opts.waitMs ?? 0;
  const log = deps.logger;
  const giveUpAfterMs = opts.once ? (opts.giveUpAfterMs ?? 0) : 0;
  let gaveUp: LoopProblems['gaveUp'];
  const failedQueues = new Map<string, string>();

  function setState(next: DispatcherState, err?: unknown): void {
    if (next === state) return;
    const prev = state;
    state = next;
    deps.onDispatcherState?.(next);
    // One line per change of state, not per failed ask.
    if (next === 'ok' && prev === 'stopped') log.info('dispatcher handing out queues again');
    else if (next === 'ok' && prev !== 'unknown') log.info('dispatcher reachable again');
    else if (next === 'unreachable')
      log.warn({ err: errorMessage(err) }, 'dispatcher unreachable; backing off');
    else if (next === 'failing')
      log.warn({ err: errorMessage(err) }, 'dispatcher failing; backing off');
    else if (next === 'stopped') log.warn('dispatcher stopped handing out queues; waiting');
  }

  async function worker(index: number): Promise<void> {
    const name = opts.concurrency > 1 ? `${deps.name}/${index}` : deps.name;
    let held: { grant: NextGrant; empty: boolean } | undefined;
    let idle = 0;
    let emptyStreak = 0;
    const asks = failureRun(giveUpAfterMs);
    // Drains fail apart from the dispatcher (the database away): their own count and clock.
    const drains = failureRun(giveUpAfterMs);
    const emptySeen = new Set<string>();
    while (!stopping.signal.aborted) {
      let grant: NextGrant | null;
      const askedAt = Date.now();
      // stop() abandons a long-poll parked at the dispatcher, but not an answer that is
      // about to come: a grant thrown away on the wire would stay leased until it expires.
      const ask = new AbortController();
      let abandon: NodeJS.Timeout | undefined;
      const onStopAsk = (): void => {
        abandon = setTimeout(() => ask.abort(), Math.max(0, PARKED_MS - (Date.now() - askedAt)));
      };
      stopping.signal.addEventListener('abort', onStopAsk, { once: true });
      try {
        grant = await deps.dispatcher.next(
          {
            consumer: name,
            ...(held
              ? { release: held.grant.queue, lease: held.grant.lease, empty: held.empty }
              : {}),
            ...(waitMs > 0 ? { wait: waitMs } : {}),
          },
          { signal: ask.signal },
        );
        held = undefined;
        asks.ok();
        setState('ok');
      } catch (err) {
        // An abandoned long-poll is no dispatcher failure.
        if (stopping.signal.aborted) break;
        if (isIngestError(err, 'DISPATCHER_STOPPED')) setState('stopped');
        else if (isIngestError(err, 'DISPATCHER_UNREACHABLE')) setState('unreachable', err);
        else if (isIngestError(err) && err.status >= 500) setState('failing', err);
        else {
          // A release the dispatcher refuses (lease expired meanwhile) must not wedge the loop.
          log.warn({ err: errorMessage(err) }, 'queue/next failed');
          held = undefined;
        }
        // A release that keeps failing is moot once its lease has expired: ask without it.
        if (held && Date.parse(held.grant.expiresAt) < Date.now()) held = undefined;
        if (asks.fail(askedAt)) {
          gaveUp ??= {
            reason: state === 'stopped' || state === 'failing' ? state : 'unreachable',
            error: errorMessage(err),
          };
          // The others would only fail the same way.
          stopping.abort();
          break;
        }
        await sleep(asks.backoff(), stopping.signal);
        continue;
      } finally {
        clearTimeout(abandon);
        stopping.signal.removeEventListener('abort', onStopAsk);
      }
      if (grant && stopping.signal.aborted) {
        // Granted as we were stopping: give it back untouched (it may hold messages).
        held = { grant, empty: false };
        break;
      }
      if (!grant) {
        if (opts.once) return;
        idle = Math.min(idle + 1, 3);
        // A long-poll that ran its course was the pause already; a quick 204 (the
        // dispatcher did not wait: fifo, or an older one) gets the idle back-off.
        const waited = Date.now() - askedAt;
        const longPolled = waitMs > 0 && waited >= waitMs;
        if (!longPolled) await sleep(opts.idlePollMs * 2 ** (idle - 1) - waited, stopping.signal);
        continue;
      }
      idle = 0;
      const lease = new AbortController();
      const onStop = (): void => lease.abort();
      stopping.signal.addEventListener('abort', onStop);
      let lost = false;
      const renew = setInterval(() => {
        deps.dispatcher.renew(grant.queue, grant.lease).catch((err: unknown) => {
          if (isIngestError(err, 'LEASE_NOT_HELD') || isIngestError(err, 'NOT_FOUND')) {
            log.info({ queue: grant.queue }, 'lease lost (paused, deleted or expired); stopping');
            lost = true;
            lease.abort();
          } else log.debug({ err: errorMessage(err) }, 'lease renew failed; will retry');
        });
      }, opts.renewEveryMs);
      let result: DrainResult | undefined;
      try {
        result = await deps.drain({ account: grant.queue, signal: lease.signal });
        failedQueues.delete(grant.queue);
        drains.ok();
        deps.onDrained?.({ account: grant.queue, result });
      } catch (err) {
        failedQueues.set(grant.queue, errorMessage(err));
        log.warn({ queue: grant.queue, err: errorMessage(err) }, 'drain failed; backing off');
        deps.onDrained?.({ account: grant.queue, result: undefined, error: err });
        if (drains.fail()) {
          gaveUp ??= { reason: 'drains', error: errorMessage(err) };
          stopping.abort();
        }
      } finally {
        clearInterval(renew);
        stopping.signal.removeEventListener('abort', onStop);
      }
      held = lost ? undefined : { grant, empty: result?.empty ?? false };
      if (!result) await sleep(drains.backoff(), stopping.signal);
      else if (result.messages > 0) emptyStreak = 0;
      else if (result.empty) emptyStreak += 1;
      // Only after a drain that worked: a failed one has just backed off already.
      if (result && emptyStreak >= 2 && opts.emptyPauseMs > 0 && !opts.once && held) {
        // Give the queue back first: a message arriving meanwhile must not wait for us.
        const h = held;
        held = undefined;
        await deps.dispatcher
          .release(h.grant.queue, { lease: h.grant.lease, empty: h.empty })
          .catch((err: unknown) => log.debug({ err: errorMessage(err) }, 'release failed'));
        await sleep(opts.emptyPauseMs * 2 ** Math.min(emptyStreak - 2, 4), stopping.signal);
      }
      if (opts.once && result) {
        if (result.messages > 0) emptySeen.clear();
        else if (emptySeen.has(grant.queue)) break;
        else emptySeen.add(grant.queue);
      }
    }
    if (held) {
      await deps.dispatcher
        .release(held.grant.queue, { lease: held.grant.lease, empty: held.empty })
        .catch((err: unknown) => log.debug({ err: errorMessage(err) }, 'release on exit failed'));
    }
  }

  const done = Promise.all(
    Array.from({ length: Math.max(1, opts.concurrency) }, (_, i) => worker(i)),
  ).then(() => undefined);
  return {
    done,
    async stop() {
      stopping.abort();
      await done;
    },
    problems() {
      return {
        ...(gaveUp ? { gaveUp } : {}),
        failedQueues: [...failedQueues].map(([queue, error]) => ({ queue, error })),
      };
    },
  };
}
