/**
 * What the dispatcher does, apart from HTTP: claims by strategy through the
 * registry, fifo while the maintainer heartbeat is stale, and a stop flag kept
 * in the registry (checked inside the claim) so replicas stop and start as one. No queue state lives in
 * the process: several dispatchers on one registry behave as one.
 */
import type { Config } from '../core/config.js';
import { IngestError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type {
  BatchItem,
  BatchResult,
  Lease,
  QueueRegistry,
  Strategy,
} from '../registry/registry.js';
import { displayState } from '../registry/registry.js';
import type {
  DispatcherStatus,
  NextGrant,
  QueueStatusEntry,
  QueueStatusResponse,
} from './client.js';
import { createClaimBatcher } from './claim-batcher.js';
import { registryCounts } from './queue-counts.js';
import { createClaimWaiters } from './claim-waiters.js';
import type { DispatcherMetrics } from './metrics.js';

export interface NextRequest {
  consumer: string;
  release?: string;
  lease?: string;
  empty?: boolean;
  /**
   * Long-poll (ms, at most MAX_WAIT_MS): rather than take a queue known to be empty,
   * wait up to this long for one with messages; then answer as without waiting.
   * Honoured under messages-first while the maintainer is alive (has_messages is
   * trusted); otherwise the answer comes at once.
   */
  wait?: number;
}

/** Longest long-poll a request may ask for. */
export const MAX_WAIT_MS = 30_000;

export interface Dispatcher {
  /** `signal`: the consumer went away (a long-poll stops waiting and answers null). */
  next(req: NextRequest, opts?: { signal?: AbortSignal }): Promise<NextGrant | null>;
  /** Queues may have messages now (publish hints applied): parked consumers try again. */
  notifyMessages(): void;
  /** Consumers parked in a long-poll right now. */
  waitingConsumers(): number;
  release(queue: string, lease: string, empty?: boolean): Promise<void>;
  renew(queue: string, lease: string): Promise<{ expiresAt: string }>;
  pause(queue: string): Promise<void>;
  unpause(queue: string): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  status(): Promise<QueueStatusResponse>;
  /** Dispatcher state only (no queue list). */
  describe(): Promise<DispatcherStatus>;
  close(): Promise<void>;
}

export interface DispatcherDeps {
  config: Pick<Config, 'strategy' | 'leaseTimeout' | 'heartbeatStale'>;
  logger: Logger;
  registry: QueueRegistry;
  /** Time of the maintainer's last heartbeat (ms), null when none or unreadable. */
  readHeartbeat: () => Promise<number | null>;
  metrics?: DispatcherMetrics;
  /** How long a read of the maintainer heartbeat is reused on the claim path (ms). */
  cacheMs?: number;
  /** Most next requests claimed in one statement (1: no coalescing). */
  maxBatch?: number;
  /** Interval of the expired-lease sweep (ms); 0 disables it. */
  sweepMs?: number;
  /** While consumers wait (long-poll), how often they re-check the registry anyway (ms). */
  recheckMs?: number;
  now?: () => number;
}

/** A value refreshed in the background at most every `ttl` ms; callers never wait on a refresh after the first. */
function cached<T>(ttl: number, load: () => Promise<T>, now: () => number) {
  let value: T | undefined;
  let at = -Infinity;
  let inflight: Promise<T> | undefined;
  function refresh(): Promise<T> {
    inflight ??= load()
      .then((v) => {
        value = v;
        at = now();
        return v;
      })
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  }
  return {
    async get(): Promise<T> {
      if (value === undefined) return refresh();
      if (now() - at > ttl) refresh().catch(() => undefined);
      return value;
    },
    set(v: T): void {
      value = v;
      at = now();
    },
    refresh,
  };
}

export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const { config, registry, metrics } = deps;
  const log = deps.logger.child({ component: 'dispatcher' });
  const now = deps.now ?? Date.now;
  const cacheMs = deps.cacheMs ?? 1_000;
  let staleLogged: boolean | undefined;

  const heartbeat = cached(
    cacheMs,
    async () => {
      try {
        return { at: await deps.readHeartbeat(), error: undefined as string | undefined };
      } catch (err) {
        return { at: null, error: errorMessage(err) };
      }
    },
    now,
  );

  /** `fresh`: read the heartbeat now (status), else the cached read (the claim path). */
  async function maintainer(fresh = false): Promise<DispatcherStatus['maintainer']> {
    const hb = fresh ? await heartbeat.refresh() : await heartbeat.get();
    const ageMs = hb.at === null ? null : Math.max(0, now() - hb.at);
    const alive = ageMs !== null && ageMs <= config.heartbeatStale;
    if (staleLogged !== !alive) {
      // Log the switch both ways, once per change.
      if (!alive)
        log.warn(
          { ageMs, staleAfterMs: config.heartbeatStale, err: hb.error, strategy: config.strategy },
          config.strategy === 'fifo'
            ? 'maintainer heartbeat stale'
            : 'maintainer heartbeat stale: falling back to fifo',
        );
      else if (staleLogged !== undefined)
        log.info(
          { ageMs, strategy: config.strategy },
          `maintainer heartbeat fresh again: using ${config.strategy}`,
        );
      staleLogged = !alive;
      metrics?.fallback.set(!alive && config.strategy !== 'fifo' ? 1 : 0);
    }
    return {
      alive,
      lastHeartbeat: hb.at === null ? null : new Date(hb.at).toISOString(),
      ageMs,
      staleAfterMs: config.heartbeatStale,
    };
  }

  async function effectiveStrategy(): Promise<{ strategy: Strategy; fallback: boolean }> {
    if (config.strategy === 'fifo') {
      await maintainer(); // keeps the stale/fresh log and gauge current
      return { strategy: 'fifo', fallback: false };
    }
    const m = await maintainer();
    return m.alive
      ? { strategy: config.strategy, fallback: false }
      : { strategy: 'fifo', fallback: true };
  }

  async function describe(): Promise<DispatcherStatus> {
    const m = await maintainer(true);
    const isStopped = await registry.isStopped();
    const fallback = !m.alive && config.strategy !== 'fifo';
    return {
      state: isStopped ? 'stopped' : 'running',
      strategy: config.strategy,
      effectiveStrategy: fallback ? 'fifo' : config.strategy,
      fallback,
      maintainer: m,
      leaseTimeoutMs: config.leaseTimeout,
      waitingConsumers: waiters.size,
    };
  }

  const waiters = createClaimWaiters({
    recheckMs: deps.recheckMs,
    now,
    onSize: (n) => metrics?.waiting.set(n),
  });

  async function releaseOrThrow(queue: string, lease: string, empty?: boolean): Promise<void> {
    const r = await registry.release(queue, lease, { empty });
    metrics?.releases.inc({ result: r });
    // Given back with messages left: a waiting consumer can take it now.
    if (r === 'released' && !empty) waiters.wake();
    if (r === 'not-found') throw new IngestError('NOT_FOUND', `unknown queue ${queue}`);
    if (r === 'not-held')
      throw new IngestError(
        'LEASE_NOT_HELD',
        `lease not held on queue ${queue} (expired or taken back)`,
      );
  }

  const batcher = createClaimBatcher({
    registry,
    current: async () => ({
      strategy: (await effectiveStrategy()).strategy,
      leaseMs: config.leaseTimeout,
    }),
    maxBatch: deps.maxBatch,
    onBatch: (size) => metrics?.batchSize.observe(size),
  });
  // Consumers that wait (long-poll) claim only queues known to hold messages.
  const waitingBatcher = createClaimBatcher({
    registry,
    current: async () => ({
      strategy: 'messages-first' as const,
      leaseMs: config.leaseTimeout,
      withMessages: true,
    }),
    maxBatch: deps.maxBatch,
    onBatch: (size) => metrics?.batchSize.observe(size),
  });

  /** A give-back that came with a next request: metrics, and "released" for the answer. */
  function noteRelease(
    result: BatchResult['released'],
    req: NextRequest,
    empty: boolean | undefined,
  ): boolean | undefined {
    if (result === undefined) return undefined;
    // A failed release (lease lost meanwhile) must not keep the consumer from its next
    // queue: it is reported as "released": false.
    metrics?.releases.inc({ result });
    const ok = result === 'released';
    if (!ok)
      log.debug({ queue: req.release, consumer: req.consumer, result }, 'release with next failed');
    // Given back with messages left: a waiting consumer can take it now.
    else if (!empty) waiters.wake();
    return ok;
  }

  async function stoppedOrEmpty(): Promise<null> {
    // The claim honours the shared stop flag; tell "stopped" from "nothing to do".
    if (await registry.isStopped()) {
      metrics?.next.inc({ result: 'stopped' });
      throw new IngestError('DISPATCHER_STOPPED', 'dispatcher stopped: no queues handed out', {
        retryAfter: 1,
      });
    }
    metrics?.next.inc({ result: 'empty' });
    return null;
  }

  function granted(lease: Lease, released: boolean | undefined): NextGrant {
    metrics?.next.inc({ result: 'granted' });
    return {
      queue: lease.queue,
      lease: lease.lease,
      expiresAt: lease.expiresAt.toISOString(),
      ...(released === undefined ? {} : { released }),
    };
  }

  // Read on every pass of a long-poll (a stop through another replica ends the waits there
  // within about this long); this replica's own stop and start set it at once.
  const stopFlag = cached(250, () => registry.isStopped(), now);

  /**
   * Long-poll: claim among queues with messages, park until something may have changed,
   * try again; at the deadline, or once has_messages is no longer trusted (the maintainer
   * went stale), undefined (answer as without waiting). `released` is set once the
   * give-back (if any) has happened.
   */
  async function claimWaiting(
    req: NextRequest,
    release: BatchItem['release'],
    waitMs: number,
    signal: AbortSignal | undefined,
    out: { released?: boolean | undefined },
  ): Promise<NextGrant | null | undefined> {
    const deadline = now() + waitMs;
    for (;;) {
      const since = waiters.generation();
      const r = await waitingBatcher.submit({
        consumer: req.consumer,
        ...(release ? { release } : {}),
      });
      if (release) out.released = noteRelease(r.released, req, release.empty);
      release = undefined;
      if (r.lease) return granted(r.lease, out.released);
      if (await stopFlag.get()) return stoppedOrEmpty();
      if ((await effectiveStrategy()).strategy !== 'messages-first') return undefined;
      const outcome = await waiters.wait(since, deadline, signal);
      if (outcome === 'deadline') return undefined;
      if (outcome !== 'woken') {
        metrics?.next.inc({ result: 'empty' });
        return null;
      }
    }
  }

  let sweepTimer: NodeJS.Timeout | undefined;
  let sweepFailing = false;
  const sweepMs = deps.sweepMs ?? 1_000;
  if (sweepMs > 0) {
    sweepTimer = setInterval(() => {
      registry
        .expireLeases()
        .then((ids) => {
          if (sweepFailing) log.info('lease sweep works again');
          sweepFailing = false;
          if (ids.length) {
            waiters.wake();
            metrics?.expired.inc(ids.length);
            log.info({ queues: ids }, 'expired leases given back');
          }
        })
        .catch((err: unknown) => {
          if (!sweepFailing) log.warn({ err: errorMessage(err) }, 'lease sweep failed');
          sweepFailing = true;
        });
    }, sweepMs);
    sweepTimer.unref();
  }

  return {
    async next(req, opts = {}) {
      if (req.release !== undefined && req.lease === undefined)
        throw new IngestError('VALIDATION', '"release" needs the "lease" it was handed out with');
      let release: BatchItem['release'] =
        req.release !== undefined
          ? { queue: req.release, lease: req.lease!, empty: req.empty }
          : undefined;
      const out: { released?: boolean | undefined } = {};
      const waitMs = Math.min(Math.max(0, req.wait ?? 0), MAX_WAIT_MS);
      if (waitMs > 0 && (await effectiveStrategy()).strategy === 'messages-first') {
        const answer = await claimWaiting(req, release, waitMs, opts.signal, out);
        if (answer !== undefined) return answer;
        // The deadline: answer as without waiting (a known-empty queue may go out).
        release = undefined;
      }
      const end = metrics?.claimSeconds.startTimer();
      const r = await batcher.submit({ consumer: req.consumer, ...(release ? { release } : {}) });
      let lease: Lease | null = r.lease;
      if (release) out.released = noteRelease(r.released, req, release.empty);
      if (!lease && release && out.released) {
        // A batch claims from the snapshot before its give-backs: when nothing else
        // was idle, the queue just given back may go straight back out.
        const { strategy } = await effectiveStrategy();
        lease = await registry.claimNext({
          consumer: req.consumer,
          strategy,
          leaseMs: config.leaseTimeout,
        });
      }
      end?.();
      return lease ? granted(lease, out.released) : stoppedOrEmpty();
    },
    notifyMessages: () => waiters.wake(),
    waitingConsumers: () => waiters.size,
    release: releaseOrThrow,
    async renew(queue, lease) {
      const r = await registry.renew(queue, lease, config.leaseTimeout);
      metrics?.renewals.inc({ result: r.ok ? 'renewed' : r.reason });
      if (r.ok) return { expiresAt: r.expiresAt.toISOString() };
      if (r.reason === 'not-found') throw new IngestError('NOT_FOUND', `unknown queue ${queue}`);
      throw new IngestError(
        'LEASE_NOT_HELD',
        `lease on queue ${queue} lost (expired, paused or deleted): stop draining it`,
      );
    },
    async pause(queue) {
      if (!(await registry.pause(queue)))
        throw new IngestError('NOT_FOUND', `unknown queue ${queue}`);
      log.info({ queue }, 'queue paused');
    },
    async unpause(queue) {
      if (!(await registry.unpause(queue)))
        throw new IngestError('NOT_FOUND', `unknown queue ${queue}`);
      waiters.wake();
      log.info({ queue }, 'queue unpaused');
    },
    async stop() {
      await registry.setStopped(true);
      stopFlag.set(true);
      // Consumers waiting here get their 503 now.
      waiters.wake();
      metrics?.stopped.set(1);
      log.warn('dispatcher stopped: no queues handed out until start');
    },
    async start() {
      await registry.setStopped(false);
      stopFlag.set(false);
      metrics?.stopped.set(0);
      waiters.wake();
      log.info('dispatcher started: handing out queues');
    },
    describe,
    async status() {
      const [dispatcher, entries] = await Promise.all([describe(), registry.list()]);
      const t = now();
      const queues: QueueStatusEntry[] = entries.map((e) => {
        const state = displayState(e);
        const counts = registryCounts({ ...e, state });
        return {
          id: e.id,
          state,
          registryState: e.state,
          deleted: e.deleted,
          // What a consumer saw after the maintainer's last count wins (see registryCounts).
          messageCount: counts.total,
          readyCount: counts.ready,
          unackedCount: counts.unacked,
          hasMessages: e.hasMessages,
          consumer: e.consumer,
          leasedAt: e.leasedAt?.toISOString() ?? null,
          leaseExpiresAt: e.leaseExpiresAt?.toISOString() ?? null,
          lastDeliveredAt: e.lastDeliveredAt?.toISOString() ?? null,
          countedAt: e.countedAt?.toISOString() ?? null,
          deletedAt: e.deletedAt?.toISOString() ?? null,
          updatedAt: e.updatedAt.toISOString(),
        };
      });
      return {
        dispatcher,
        queues,
        totals: {
          queues: queues.length,
          busy: queues.filter((q) => q.state === 'busy').length,
          paused: queues.filter((q) => q.state === 'paused').length,
          deleted: queues.filter((q) => q.deleted).length,
          messages: queues.reduce((a, q) => a + q.messageCount, 0),
        },
        generatedAt: new Date(t).toISOString(),
      };
    },
    async close() {
      // Parked consumers get their answer (204) now rather than at their deadline.
      waiters.close();
      if (sweepTimer) clearInterval(sweepTimer);
      sweepTimer = undefined;
    },
  };
}
