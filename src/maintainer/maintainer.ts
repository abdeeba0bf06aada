/**
 * `ingest maintain`: keeps the queue registry true. Each pass runs five steps,
 * each logged and counted, and a failing step does not stop the others:
 *  1. accounts -> registry entries + durable RabbitMQ queues (inactive/removed: flagged deleted
 *     once their queue is drained: until then it is handed out like any other, so what the
 *     frontend accepted before the account went is stored, never dropped; the queue of an
 *     account gone before any pass registered it is adopted, then goes the same way)
 *  2. message counts (management API when reachable, checkQueue otherwise)
 *  3. expired leases back to idle
 *  4. deleted queues removed from RabbitMQ once empty for config.deleteGrace, then from the registry
 *  5. heartbeat (only after fresh counts: it tells the dispatcher the counts can be trusted)
 *  6. consumed-message ledger entries past the retention are forgotten (the readings'
 *     primary key still makes an older replay a no-op, row by row)
 */
import { accountQueueName, type Config } from '../core/config.js';
import { errorMessage } from '../core/errors.js';
import { backoffDelay } from '../core/lifecycle.js';
import { createPeriodic } from '../core/periodic.js';
import type { Logger } from '../core/logger.js';
import type { QueueCount, QueueEntry, QueueRegistry } from '../registry/registry.js';
import type { MaintainerMetrics } from './metrics.js';
import type { AccountSource, HeartbeatWriter, LedgerPruner, QueueBroker } from './ports.js';
import type { ManagementApi, ManagementQueue } from './rabbitmq-management.js';

export type StepName = 'accounts' | 'counts' | 'leases' | 'deletions' | 'heartbeat' | 'ledger';

export interface PassReport {
  startedAt: string;
  durationMs: number;
  ok: boolean;
  accounts: {
    active: number;
    created: string[];
    restored: string[];
    deleted: string[];
    /**
     * Inactive or removed accounts whose queue still holds messages: drained before it goes
     * (`paused`: never handed out until unpaused).
     */
    draining: Array<{ id: string; messages: number; paused?: true }>;
    /**
     * Queues of gone accounts that no pass had registered (added, then removed or deactivated
     * before the next pass): registered now, so that they are drained and removed like the others.
     */
    adopted: string[];
    asserted: number;
  };
  counts: { source: 'management' | 'checkQueue' | 'none'; counted: number; missing: string[] };
  leases: { expired: string[] };
  deletions: {
    removed: string[];
    waiting: Array<{ id: string; messages: number; reason: string }>;
  };
  heartbeat: { written: boolean };
  ledger: { pruned: number };
  errors: Array<{ step: StepName; error: string }>;
}

export interface MaintainerDeps {
  config: Pick<
    Config,
    | 'queuePrefix'
    | 'leaseTimeout'
    | 'deleteGrace'
    | 'maintainInterval'
    | 'managementUrl'
    | 'ledgerRetention'
  >;
  logger: Logger;
  registry: QueueRegistry;
  accounts: AccountSource;
  broker: QueueBroker;
  heartbeat: HeartbeatWriter;
  /** Absent: the ledger is left alone (step 6 skipped). */
  ledger?: LedgerPruner;
  /** Absent or unreachable: counts come from checkQueue. */
  management?: ManagementApi;
  metrics?: MaintainerMetrics;
  /** Extra cleanups run by close() (the convenience builder closes what it created). */
  onClose?: () => Promise<void>;
  now?: () => number;
}

export interface Maintainer {
  runOnce(): Promise<PassReport>;
  /** Passes every config.maintainInterval until close(). */
  start(): void;
  close(): Promise<void>;
}

function emptyReport(now: number): PassReport {
  return {
    startedAt: new Date(now).toISOString(),
    durationMs: 0,
    ok: true,
    accounts: {
      active: 0,
      created: [],
      restored: [],
      deleted: [],
      draining: [],
      adopted: [],
      asserted: 0,
    },
    counts: { source: 'none', counted: 0, missing: [] },
    leases: { expired: [] },
    deletions: { removed: [], waiting: [] },
    heartbeat: { written: false },
    ledger: { pruned: 0 },
    errors: [],
  };
}

/** How old the management API's queue figures may be (its statistics interval, with margin). */
const MANAGEMENT_SAMPLE_AGE_MS = 10_000;

export function createMaintainer(deps: MaintainerDeps): Maintainer {
  const { config, registry, broker, metrics } = deps;
  const log = deps.logger.child({ component: 'maintainer' });
  const now = deps.now ?? Date.now;
  const asserted = new Set<string>();
  const queueName = (id: string): string => accountQueueName(config, id);
  let managementUp: boolean | undefined;
  let closing: Promise<void> | undefined;
  let failures = 0;

  async function assertQueues(ids: readonly string[], report: PassReport): Promise<void> {
    for (const id of ids) {
      if (asserted.has(id)) continue;
      await broker.assertQueue(queueName(id));
      asserted.add(id);
      report.accounts.asserted += 1;
    }
  }

  /**
   * Accounts that are gone (deactivated or removed) but whose queue still holds messages
   * or is being worked: what the frontend accepted (a 2xx) is stored before the queue goes.
   */
  async function stillDraining(
    active: readonly string[],
    entries: readonly QueueEntry[],
  ): Promise<PassReport['accounts']['draining']> {
    const live = new Set(active);
    const t = now();
    const draining: PassReport['accounts']['draining'] = [];
    for (const e of entries) {
      if (live.has(e.id)) continue;
      const leased = e.leaseId !== null && (e.leaseExpiresAt?.getTime() ?? 0) > t;
      let d: { ready: number; consumers: number } | undefined;
      try {
        d = await broker.depth(queueName(e.id));
      } catch (err) {
        // Unknown is not empty: keep it live until it can be counted.
        log.warn({ queue: e.id, err: errorMessage(err) }, 'cannot count a gone account queue');
        draining.push({ id: e.id, messages: e.messageCount });
        continue;
      }
      if (d && (d.ready > 0 || d.consumers > 0 || leased))
        draining.push({
          id: e.id,
          messages: d.ready,
          ...(e.state === 'paused' ? { paused: true as const } : {}),
        });
    }
    return draining;
  }

  /**
   * Gone accounts whose queue no pass registered: `accounts add` declared it and the
   * account went before the next pass. Those whose queue exists are to be adopted; `settled`
   * are the ids dealt with (adopted, registered already, back again, or with no queue).
   */
  async function unregisteredQueues(
    gone: readonly string[],
    active: readonly string[],
    entries: readonly QueueEntry[],
  ): Promise<{ adopt: string[]; settled: string[] }> {
    const known = new Set([...active, ...entries.map((e) => e.id)]);
    const adopt: string[] = [];
    const settled: string[] = [];
    for (const id of gone) {
      if (!known.has(id)) {
        try {
          if (await broker.depth(queueName(id))) adopt.push(id);
        } catch (err) {
          log.warn({ queue: id, err: errorMessage(err) }, 'cannot check a gone account queue');
          continue;
        }
      }
      settled.push(id);
    }
    return { adopt, settled };
  }

  async function stepAccounts(report: PassReport): Promise<void> {
    const active = await deps.accounts.listActive();
    const gone = await deps.accounts.listGone();
    const entries = await registry.list();
    const draining = await stillDraining(active, entries);
    const { adopt, settled } = await unregisteredQueues(gone.ids, active, entries);
    // Kept live (a deleted one comes back) until drained; the next pass after that flags it.
    const sync = await registry.upsertFromAccounts([
      ...active,
      ...draining.map((d) => d.id),
      ...adopt,
    ]);
    await deps.accounts.forgetGone(settled, gone.at);
    const drainingIds = new Set(draining.map((d) => d.id));
    const adopted = new Set(adopt);
    sync.restored = sync.restored.filter((id) => !drainingIds.has(id));
    sync.created = sync.created.filter((id) => !adopted.has(id));
    for (const id of sync.deleted) asserted.delete(id);
    report.accounts = {
      ...report.accounts,
      active: active.length,
      ...sync,
      draining,
      adopted: adopt,
    };
    await assertQueues(active, report);
    metrics?.queuesCreated.inc(sync.created.length);
    metrics?.queuesFlaggedDeleted.inc(sync.deleted.length);
    log.info(
      {
        active: active.length,
        created: sync.created.length,
        restored: sync.restored.length,
        deleted: sync.deleted,
        draining,
        adopted: adopt,
        asserted: report.accounts.asserted,
      },
      'step 1: accounts -> queues',
    );
  }

  async function managementQueues(): Promise<Map<string, ManagementQueue> | undefined> {
    if (!deps.management) return undefined;
    try {
      const list = await deps.management.queues(config.queuePrefix);
      if (managementUp !== true)
        log.info({ url: deps.management.url }, 'counting with the RabbitMQ management API');
      managementUp = true;
      return new Map(list.map((q) => [q.name, q]));
    } catch (err) {
      if (managementUp !== false)
        log.info(
          { err: errorMessage(err) },
          'RabbitMQ management API unreachable: counting with checkQueue (ready only)',
        );
      managementUp = false;
      return undefined;
    }
  }

  async function stepCounts(entries: QueueEntry[], report: PassReport): Promise<void> {
    // The registry's clock: it is the one publish hints are stamped with.
    const started = (await registry.clock()).getTime();
    const mgmt = await managementQueues();
    const counts: QueueCount[] = [];
    const missing: string[] = [];
    for (const e of entries) {
      const name = queueName(e.id);
      let c: { ready: number; unacked: number } | undefined;
      if (mgmt) {
        const q = mgmt.get(name);
        c = q && { ready: q.ready, unacked: q.unacked };
      } else {
        const d = await broker.depth(name);
        // checkQueue reports ready messages only.
        c = d && { ready: d.ready, unacked: 0 };
      }
      if (!c) {
        missing.push(e.id);
        if (!e.deleted) asserted.delete(e.id);
        continue;
      }
      counts.push({ id: e.id, ...c });
    }
    // A live account's queue that vanished (deleted by hand, broker reset) is declared again.
    const relive = missing.filter((id) => entries.find((e) => e.id === id && !e.deleted));
    if (relive.length) await assertQueues(relive, report);
    // A publish hint after counting began outlives a count of 0. The management API's
    // figures are sampled (every 5 s by default), so they may be older than the call.
    const countedSince = new Date(mgmt ? started - MANAGEMENT_SAMPLE_AGE_MS : started);
    await registry.updateCounts(counts, { countedSince });
    report.counts = { source: mgmt ? 'management' : 'checkQueue', counted: counts.length, missing };
    metrics?.messages.set(counts.reduce((a, c) => a + c.ready + c.unacked, 0));
    log.info(
      {
        source: report.counts.source,
        counted: counts.length,
        missing,
        withMessages: counts.filter((c) => c.ready > 0).length,
      },
      'step 2: message counts',
    );
  }

  async function stepLeases(report: PassReport): Promise<void> {
    const expired = await registry.expireLeases({ maxAgeMs: config.leaseTimeout });
    report.leases.expired = expired;
    metrics?.leasesExpired.inc(expired.length);
    if (expired.length) log.warn({ queues: expired }, 'step 3: expired leases back to idle');
    else log.info({ expired: 0 }, 'step 3: expired leases');
  }

  async function stepDeletions(entries: QueueEntry[], report: PassReport): Promise<void> {
    const t = now();
    for (const e of entries.filter((x) => x.deleted)) {
      const name = queueName(e.id);
      if (e.leaseId && e.leaseExpiresAt && e.leaseExpiresAt.getTime() > t) {
        report.deletions.waiting.push({ id: e.id, messages: e.messageCount, reason: 'leased' });
        continue;
      }
      // Checked, then deleted: RabbitMQ's if-empty delete is not offered by every queue type.
      // Frontends may accept for the account for their token-cache TTL after it went: the
      // queue stays (flagged) for the grace period, and a message that lands meanwhile makes
      // the next pass hand it out again to drain it. Only then is the check-then-delete safe.
      const d = await broker.depth(name);
      if (d && d.ready > 0) {
        report.deletions.waiting.push({ id: e.id, messages: d.ready, reason: 'not empty' });
        continue;
      }
      if (d && d.consumers > 0) {
        report.deletions.waiting.push({ id: e.id, messages: 0, reason: 'consumers' });
        continue;
      }
      if (e.deletedAt && t - e.deletedAt.getTime() < config.deleteGrace) {
        report.deletions.waiting.push({ id: e.id, messages: 0, reason: 'grace' });
        continue;
      }
      if (d) {
        const leftover = await broker.deleteQueue(name);
        if (leftover > 0) {
          // Arrived between the check and the delete (RabbitMQ said how many): say so loudly.
          log.error(
            { queue: name, leftover },
            'deleted account queue removed with messages that arrived after it was found empty',
          );
        }
      }
      await registry.remove(e.id);
      asserted.delete(e.id);
      report.deletions.removed.push(e.id);
    }
    metrics?.queuesRemoved.inc(report.deletions.removed.length);
    log.info(
      {
        removed: report.deletions.removed,
        waiting: report.deletions.waiting,
      },
      'step 4: deleted queues',
    );
  }

  async function pass(): Promise<PassReport> {
    const started = now();
    const report = emptyReport(started);
    const step = async (name: StepName, fn: () => Promise<void>): Promise<boolean> => {
      const end = metrics?.stepSeconds.startTimer({ step: name });
      try {
        await fn();
        metrics?.steps.inc({ step: name, result: 'ok' });
        return true;
      } catch (err) {
        report.errors.push({ step: name, error: errorMessage(err) });
        metrics?.steps.inc({ step: name, result: 'error' });
        log.error({ step: name, err: errorMessage(err) }, `step ${name} failed`);
        return false;
      } finally {
        end?.();
      }
    };
    await step('accounts', () => stepAccounts(report));
    let entries: QueueEntry[] = [];
    const listed = await step('counts', async () => {
      entries = await registry.list();
      await stepCounts(entries, report);
    });
    await step('leases', () => stepLeases(report));
    // Listed again: step 3 may have just freed leases of deleted queues.
    await step('deletions', async () => stepDeletions(await registry.list(), report));
    if (listed) {
      await step('heartbeat', async () => {
        await deps.heartbeat.write();
        report.heartbeat.written = true;
        log.info('step 5: heartbeat');
      });
    } else {
      log.warn('step 5: heartbeat withheld (counts are not fresh)');
    }
    const ledger = deps.ledger;
    if (ledger && config.ledgerRetention > 0) {
      await step('ledger', async () => {
        report.ledger.pruned = await ledger.prune(config.ledgerRetention);
        if (report.ledger.pruned > 0)
          log.info({ pruned: report.ledger.pruned }, 'step 6: ledger entries past retention');
      });
    }
    report.ok = report.errors.length === 0;
    report.durationMs = now() - started;
    metrics?.passes.inc({ result: report.ok ? 'ok' : 'error' });
    log.info(
      { ok: report.ok, durationMs: report.durationMs, errors: report.errors.length },
      'pass done',
    );
    return report;
  }

  // Never two passes at once in one process (start() and an explicit runOnce()).
  const passes = createPeriodic({
    run: pass,
    next: (o) => {
      if (!o.ok) {
        failures += 1;
        log.error({ err: errorMessage(o.error) }, 'maintainer pass crashed');
        return config.maintainInterval;
      }
      if (o.value.ok && failures > 0)
        log.info({ after: failures }, 'maintainer passes succeed again');
      failures = o.value.ok ? 0 : failures + 1;
      return failures === 0
        ? config.maintainInterval
        : Math.min(config.maintainInterval, backoffDelay(failures, 500, config.maintainInterval));
    },
  });

  return {
    runOnce: () => passes.runOnce(),
    start() {
      if (!closing) passes.start(0);
    },
    close() {
      closing ??= (async () => {
        await passes.close();
        await deps.onClose?.();
      })();
      return closing;
    },
  };
}
