/**
 * Group commit across leases: every worker hands its messages here and waits;
 * whatever has gathered while the previous transaction ran is written in one
 * transaction (up to `maxValues`), so many accounts trickling a message each
 * cost one COPY and one fsync, not one per account. A merged transaction that
 * fails is retried per submission, so each worker gets its own error (and can
 * isolate a bad message) while the others are unaffected.
 */
import type pg from 'pg';
import { inTransaction } from '../adapters/postgres/pool.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { AlertOutbox } from '../alerts/alert-outbox.js';
import type { RuleCache } from '../alerts/rule-cache.js';
import { evaluateRules, type AlertNotification } from '../alerts/rule-evaluator.js';
import type { NewRow, ReadingsStore, StoreMessage } from './readings-store.js';

export interface StoredEvent {
  messages: number;
  values: number;
  inserted: number;
  skippedMessages: number;
  committedAt: number;
  /** Time of the storage transaction. */
  storeMs: number;
  /** Per stored message: account, receive time and values, for lag figures. */
  received: Array<{ account: string; receivedAt: number; values: number }>;
  notifications: number;
}

export interface BatchWriter {
  /** Resolves once the messages' rows are committed. */
  write(messages: readonly StoreMessage[]): Promise<void>;
}

export interface BatchWriterDeps {
  pool: pg.Pool;
  store: ReadingsStore;
  alerts?: { rules: RuleCache; outbox: AlertOutbox } | undefined;
  logger: Logger;
  onStored?: ((e: StoredEvent) => void) | undefined;
}

interface Submission {
  messages: readonly StoreMessage[];
  values: number;
  resolve(): void;
  reject(err: unknown): void;
}

export function createBatchWriter(
  deps: BatchWriterDeps,
  opts: { maxValues: number; parallel: number },
): BatchWriter {
  const pending: Submission[] = [];
  let running = 0;

  async function transaction(messages: StoreMessage[]): Promise<AlertNotification[]> {
    const accounts = [...new Set(messages.map((m) => m.account))];
    const rulesByAccount = new Map(
      deps.alerts
        ? await Promise.all(
            accounts.map(async (a) => [a, await deps.alerts!.rules.rulesFor(a)] as const),
          )
        : [],
    );
    const anyRules = [...rulesByAccount.values()].some((r) => r.length > 0);
    const t0 = Date.now();
    const { stored, fresh } = await inTransaction(deps.pool, async (client) => {
      const stored = await deps.store.store(client, messages, { wantNewRows: anyRules });
      let fresh: AlertNotification[] = [];
      if (deps.alerts && anyRules && stored.newRows && stored.newRows.length > 0) {
        const byAccount = new Map<string, NewRow[]>();
        for (const r of stored.newRows) {
          const list = byAccount.get(r.account) ?? [];
          list.push(r);
          byAccount.set(r.account, list);
        }
        const crossings: AlertNotification[] = [];
        for (const [account, rows] of byAccount)
          crossings.push(...evaluateRules(rulesByAccount.get(account) ?? [], rows));
        fresh = await deps.alerts.outbox.record(client, crossings);
      }
      return { stored, fresh };
    });
    const committedAt = Date.now();
    deps.onStored?.({
      messages: messages.length,
      values: stored.offered,
      inserted: stored.inserted,
      skippedMessages: stored.skippedMessages,
      committedAt,
      storeMs: committedAt - t0,
      received: messages.map((m) => ({
        account: m.account,
        receivedAt: m.receivedAt,
        values: m.valueCount,
      })),
      notifications: fresh.length,
    });
    return fresh;
  }

  async function publishAlerts(fresh: AlertNotification[]): Promise<void> {
    if (fresh.length === 0 || !deps.alerts) return;
    try {
      await deps.alerts.outbox.publish(fresh);
    } catch (err) {
      deps.logger.warn(
        { err: errorMessage(err), notifications: fresh.length },
        'alert publish failed; the outbox sweep will retry',
      );
    }
  }

  async function flush(batch: Submission[]): Promise<void> {
    try {
      const fresh = await transaction(batch.flatMap((s) => s.messages));
      for (const s of batch) s.resolve();
      await publishAlerts(fresh);
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      // One submission may be to blame: give each its own transaction and its own answer.
      for (const s of batch) {
        try {
          const fresh = await transaction([...s.messages]);
          s.resolve();
          await publishAlerts(fresh);
        } catch (err2) {
          s.reject(err2);
        }
      }
    }
  }

  function pump(): void {
    while (running < opts.parallel && pending.length > 0) {
      const batch: Submission[] = [];
      let values = 0;
      while (
        pending.length > 0 &&
        (batch.length === 0 || values + pending[0]!.values <= opts.maxValues)
      ) {
        const s = pending.shift()!;
        batch.push(s);
        values += s.values;
      }
      running += 1;
      void flush(batch).finally(() => {
        running -= 1;
        pump();
      });
    }
  }

  return {
    write(messages) {
      if (messages.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        pending.push({
          messages,
          values: messages.reduce((n, m) => n + m.valueCount, 0),
          resolve,
          reject,
        });
        // Let submissions made in this same tick join the batch.
        if (pending.length === 1) setImmediate(pump);
      });
    },
  };
}
