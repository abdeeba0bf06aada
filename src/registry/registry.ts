/**
 * The queue-registry port (DESIGN §4): per account queue, its state, lease and
 * message counts. Operations are named after what the dispatcher and the
 * maintainer do; the PostgreSQL and MongoDB backends own their connections.
 */
import type { DisplayState, Strategy } from '../dispatcher/client.js';

export type { DisplayState, Strategy };
export type RegistryState = 'idle' | 'busy' | 'paused';

export interface QueueEntry {
  id: string;
  state: RegistryState;
  deleted: boolean;
  deletedAt: Date | null;
  messageCount: number;
  readyCount: number;
  unackedCount: number;
  hasMessages: boolean;
  consumer: string | null;
  leaseId: string | null;
  leasedAt: Date | null;
  leaseExpiresAt: Date | null;
  lastDeliveredAt: Date | null;
  countedAt: Date | null;
  /** Last publish hint (a frontend reported messages published to it). */
  hintedAt: Date | null;
  updatedAt: Date;
}

export interface Lease {
  queue: string;
  lease: string;
  expiresAt: Date;
}

export type ReleaseResult = 'released' | 'not-found' | 'not-held';
export type RenewResult =
  { ok: true; expiresAt: Date } | { ok: false; reason: 'not-found' | 'not-held' };

export interface ClaimRequest {
  consumer: string;
  strategy: Strategy;
  leaseMs: number;
  /**
   * Only queues known to hold messages (has_messages), longest-unserved first (both
   * strategies agree among those): what a consumer that would rather wait than take a
   * known-empty queue asks for.
   */
  withMessages?: boolean;
}

/** How a batch of claims picks its queues. */
export type ClaimOptions = Omit<ClaimRequest, 'consumer'>;

export interface BatchItem {
  consumer: string;
  release?: { queue: string; lease: string; empty?: boolean };
}

export interface BatchResult {
  /** Only when the item gave a queue back. */
  released?: ReleaseResult;
  lease: Lease | null;
}

export interface QueueCount {
  id: string;
  ready: number;
  unacked: number;
}

export interface AccountSync {
  created: string[];
  restored: string[];
  deleted: string[];
}

export interface HintResult {
  /** Queues marked as having messages. */
  marked: number;
  /** Queues a claim or release held at that moment: not marked, hint them again. */
  busy: string[];
}

export interface QueueRegistry {
  readonly backend: 'postgres' | 'mongodb';
  /** Atomically hand the next claimable queue to a consumer, or null (none, or stopped). */
  claimNext(req: ClaimRequest): Promise<Lease | null>;
  /**
   * Give one queue back and claim the next in one step (one round trip where the
   * backend allows). The queue given back is handed straight back only when no
   * other queue is claimable.
   */
  releaseAndClaim(
    release: { queue: string; lease: string; empty?: boolean },
    claim: ClaimRequest,
  ): Promise<{ released: ReleaseResult; lease: Lease | null }>;
  /**
   * Many consumers' next requests in one step (each may give a queue back):
   * results in request order, each with its own lease or null. A dispatcher
   * coalesces concurrent POST /queue/next into these.
   */
  claimBatch(items: readonly BatchItem[], opts: ClaimOptions): Promise<BatchResult[]>;
  /** Give a queue back; `empty` records that the consumer found it drained. */
  release(queue: string, lease: string, opts?: { empty?: boolean }): Promise<ReleaseResult>;
  renew(queue: string, lease: string, leaseMs: number): Promise<RenewResult>;
  /** false: unknown queue. */
  pause(queue: string): Promise<boolean>;
  unpause(queue: string): Promise<boolean>;
  markDeleted(queues: readonly string[]): Promise<string[]>;
  /** Entries for these active accounts (created or un-deleted); every other entry flagged deleted. */
  upsertFromAccounts(activeIds: readonly string[]): Promise<AccountSync>;
  /**
   * The maintainer's counts. `countedSince`: when counting began; a publish hint after it
   * keeps has_messages true whatever the count says.
   */
  updateCounts(counts: readonly QueueCount[], opts?: { countedSince?: Date }): Promise<number>;
  /**
   * The time the registry's own timestamps use (PostgreSQL's now(); for MongoDB this
   * process's clock), so a count's start compares with hint times without clock skew.
   */
  clock(): Promise<Date>;
  /**
   * Publish hints: these queues just received messages (has_messages, ahead of the counts).
   * Never waits on a claim or release in flight: queues held by one right now come back in
   * `busy`, for the caller to hint again (the hint pump does, on its next pass). Deleted or
   * unknown queues are in neither.
   */
  markHasMessages(queues: readonly string[]): Promise<HintResult>;
  /** Busy/paused leases past their expiry (or older than maxAgeMs since the last claim/renew) are dropped. */
  expireLeases(opts?: { maxAgeMs?: number }): Promise<string[]>;
  list(): Promise<QueueEntry[]>;
  get(queue: string): Promise<QueueEntry | null>;
  remove(queue: string): Promise<boolean>;
  /** Shared stop flag, so several dispatcher replicas stop and start as one. */
  setStopped(stopped: boolean): Promise<void>;
  isStopped(): Promise<boolean>;
  close(): Promise<void>;
}

export function displayState(
  e: Pick<QueueEntry, 'deleted' | 'state' | 'hasMessages'>,
): DisplayState {
  if (e.deleted) return 'deleted';
  if (e.state === 'paused') return 'paused';
  if (e.state === 'busy') return 'busy';
  return e.hasMessages ? 'idle' : 'empty';
}
