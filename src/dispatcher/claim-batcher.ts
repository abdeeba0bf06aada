/**
 * Coalesces concurrent POST /queue/next into registry.claimBatch: while a few
 * batch statements are in flight, requests that arrive wait for the next one.
 * Nothing is delayed on purpose (a lone request goes out at once); under load,
 * one transaction serves many consumers instead of one each.
 */
import type { BatchItem, BatchResult, ClaimOptions, QueueRegistry } from '../registry/registry.js';

export interface ClaimBatcher {
  submit(item: BatchItem): Promise<BatchResult>;
}

interface Pending {
  item: BatchItem;
  resolve(r: BatchResult): void;
  reject(err: unknown): void;
}

export function createClaimBatcher(deps: {
  registry: QueueRegistry;
  /** Strategy, lease (and whether only queues with messages) at the time a batch goes out. */
  current: () => Promise<ClaimOptions>;
  maxBatch?: number;
  maxInFlight?: number;
  onBatch?: (size: number, seconds: number) => void;
}): ClaimBatcher {
  const maxBatch = deps.maxBatch ?? 32;
  const maxInFlight = deps.maxInFlight ?? 3;
  let pending: Pending[] = [];
  let inFlight = 0;

  function pump(): void {
    while (inFlight < maxInFlight && pending.length > 0) {
      const batch = pending.slice(0, maxBatch);
      pending = pending.slice(batch.length);
      inFlight += 1;
      const started = performance.now();
      void (async () => {
        try {
          const results = await deps.registry.claimBatch(
            batch.map((p) => p.item),
            await deps.current(),
          );
          deps.onBatch?.(batch.length, (performance.now() - started) / 1000);
          batch.forEach((p, k) => p.resolve(results[k] ?? { lease: null }));
        } catch (err) {
          for (const p of batch) p.reject(err);
        } finally {
          inFlight -= 1;
          pump();
        }
      })();
    }
  }

  return {
    submit(item) {
      return new Promise<BatchResult>((resolve, reject) => {
        pending.push({ item, resolve, reject });
        pump();
      });
    },
  };
}
