/**
 * The queue registry in MongoDB, as in the original design: one document per
 * queue, claims by an atomic findOneAndUpdate with a sort, served by partial
 * indexes on idle live queues. Times are the dispatcher's clock.
 */
import { randomUUID } from 'node:crypto';
import type { Collection } from 'mongodb';
import { connectMongo, type MongoHandle } from '../adapters/mongodb/client.js';
import { IngestError, errorMessage } from '../core/errors.js';
import type {
  AccountSync,
  Lease,
  QueueEntry,
  QueueRegistry,
  ReleaseResult,
  RenewResult,
  Strategy,
} from './registry.js';

// The stored document is the registry entry with MongoDB's _id as its id.
type QueueDoc = Omit<QueueEntry, 'id'> & { _id: string };

interface ControlDoc {
  _id: number;
  stopped: boolean;
  updatedAt: Date;
}

const SORT: Record<Strategy, Record<string, 1 | -1>> = {
  fifo: { lastDeliveredAt: 1, _id: 1 },
  'messages-first': { hasMessages: -1, lastDeliveredAt: 1, _id: 1 },
};

const CLAIMABLE = { state: 'idle', deleted: false } as const;

const NO_LEASE = { consumer: null, leaseId: null, leasedAt: null, leaseExpiresAt: null };

function fresh(id: string, now: Date): QueueDoc {
  return {
    _id: id,
    state: 'idle',
    deleted: false,
    deletedAt: null,
    messageCount: 0,
    readyCount: 0,
    unackedCount: 0,
    hasMessages: true,
    ...NO_LEASE,
    lastDeliveredAt: null,
    countedAt: null,
    hintedAt: null,
    updatedAt: now,
  };
}

function toEntry(d: QueueDoc): QueueEntry {
  const { _id, ...rest } = d;
  return { id: _id, ...rest };
}

export async function createMongoRegistry(opts: {
  url: string;
  poolSize?: number;
}): Promise<QueueRegistry> {
  const handle: MongoHandle = await connectMongo(opts.url, {
    poolSize: opts.poolSize,
    appName: 'ingest-registry',
  });
  const queues: Collection<QueueDoc> = handle.db.collection<QueueDoc>('queue_registry');
  const control: Collection<ControlDoc> = handle.db.collection<ControlDoc>('dispatcher_control');
  try {
    await queues.createIndexes([
      { key: SORT.fifo, name: 'fifo', partialFilterExpression: CLAIMABLE },
      { key: SORT['messages-first'], name: 'messages_first', partialFilterExpression: CLAIMABLE },
      {
        key: { leaseExpiresAt: 1 },
        name: 'leases',
        partialFilterExpression: { leaseId: { $type: 'string' } },
      },
    ]);
  } catch (err) {
    await handle.close();
    throw new IngestError('DATABASE_UNAVAILABLE', `MongoDB indexes: ${errorMessage(err)}`, {
      cause: err,
    });
  }

  async function exists(id: string): Promise<boolean> {
    return (await queues.countDocuments({ _id: id }, { limit: 1 })) > 0;
  }

  const registry: QueueRegistry = {
    backend: 'mongodb',
    async claimBatch(items, o) {
      // No multi-document claim in one step here: one findOneAndUpdate per item.
      const out = [];
      for (const item of items) {
        const req = { consumer: item.consumer, ...o };
        if (item.release) out.push(await registry.releaseAndClaim(item.release, req));
        else out.push({ lease: await registry.claimNext(req) });
      }
      return out;
    },
    async releaseAndClaim(rel, req) {
      const released = await registry.release(rel.queue, rel.lease, { empty: rel.empty });
      return { released, lease: await registry.claimNext(req) };
    },
    async claimNext(req): Promise<Lease | null> {
      if ((await control.findOne({ _id: 1 }))?.stopped) return null;
      const now = new Date();
      const lease = randomUUID();
      const expiresAt = new Date(now.getTime() + req.leaseMs);
      const doc = await queues.findOneAndUpdate(
        req.withMessages ? { ...CLAIMABLE, hasMessages: true } : CLAIMABLE,
        {
          $set: {
            state: 'busy',
            consumer: req.consumer,
            leaseId: lease,
            leasedAt: now,
            leaseExpiresAt: expiresAt,
            lastDeliveredAt: now,
            updatedAt: now,
          },
        },
        { sort: SORT[req.strategy], returnDocument: 'after', projection: { _id: 1 } },
      );
      return doc ? { queue: doc._id, lease, expiresAt } : null;
    },
    async release(queue, lease, o = {}): Promise<ReleaseResult> {
      const r = await queues.updateOne({ _id: queue, leaseId: lease }, [
        {
          $set: {
            state: { $cond: [{ $eq: ['$state', 'busy'] }, 'idle', '$state'] },
            ...NO_LEASE,
            // Empty, unless a publish hint came since the claim (after the consumer's last look);
            // hint and claim times come from different dispatchers' clocks: a second of margin.
            hasMessages:
              o.empty === true
                ? { $gte: ['$hintedAt', { $subtract: ['$lastDeliveredAt', 1_000] }] }
                : true,
            updatedAt: new Date(),
          },
        },
      ]);
      if (r.matchedCount > 0) return 'released';
      return (await exists(queue)) ? 'not-held' : 'not-found';
    },
    async renew(queue, lease, leaseMs): Promise<RenewResult> {
      const now = new Date();
      const expiresAt = new Date(now.getTime() + leaseMs);
      const r = await queues.updateOne(
        { _id: queue, leaseId: lease, state: 'busy', deleted: false },
        { $set: { leaseExpiresAt: expiresAt, leasedAt: now, updatedAt: now } },
      );
      if (r.matchedCount > 0) return { ok: true, expiresAt };
      return { ok: false, reason: (await exists(queue)) ? 'not-held' : 'not-found' };
    },
    async pause(queue) {
      const r = await queues.updateOne(
        { _id: queue },
        { $set: { state: 'paused', updatedAt: new Date() } },
      );
      return r.matchedCount > 0;
    },
    async unpause(queue) {
      const now = new Date();
      const live = { $gt: ['$leaseExpiresAt', now] };
      const r = await queues.updateOne({ _id: queue }, [
        {
          $set: {
            state: {
              $cond: [{ $ne: ['$state', 'paused'] }, '$state', { $cond: [live, 'busy', 'idle'] }],
            },
            consumer: { $cond: [live, '$consumer', null] },
            leaseId: { $cond: [live, '$leaseId', null] },
            leasedAt: { $cond: [live, '$leasedAt', null] },
            leaseExpiresAt: { $cond: [live, '$leaseExpiresAt', null] },
            updatedAt: now,
          },
        },
      ]);
      return r.matchedCount > 0;
    },
    async markDeleted(ids) {
      const found = await queues
        .find({ _id: { $in: [...ids] }, deleted: false }, { projection: { _id: 1 } })
        .toArray();
      const list = found.map((d) => d._id);
      if (list.length)
        await queues.updateMany(
          { _id: { $in: list } },
          { $set: { deleted: true, deletedAt: new Date(), updatedAt: new Date() } },
        );
      return list;
    },
    async upsertFromAccounts(activeIds): Promise<AccountSync> {
      const now = new Date();
      const ids = [...activeIds];
      const created: string[] = [];
      if (ids.length) {
        const r = await queues.bulkWrite(
          ids.map((id) => ({
            updateOne: {
              filter: { _id: id },
              update: { $setOnInsert: fresh(id, now) },
              upsert: true,
            },
          })),
          { ordered: false },
        );
        for (const id of Object.values(r.upsertedIds)) created.push(String(id));
      }
      const restoredDocs = await queues
        .find({ _id: { $in: ids }, deleted: true }, { projection: { _id: 1 } })
        .toArray();
      const restored = restoredDocs.map((d) => d._id);
      if (restored.length)
        await queues.updateMany(
          { _id: { $in: restored } },
          { $set: { deleted: false, deletedAt: null, updatedAt: now } },
        );
      const goneDocs = await queues
        .find({ _id: { $nin: ids }, deleted: false }, { projection: { _id: 1 } })
        .toArray();
      const deleted = goneDocs.map((d) => d._id);
      if (deleted.length)
        await queues.updateMany(
          { _id: { $in: deleted } },
          { $set: { deleted: true, deletedAt: now, updatedAt: now } },
        );
      return { created, restored, deleted };
    },
    async updateCounts(counts, o = {}) {
      if (counts.length === 0) return 0;
      const now = new Date();
      // A publish hint since counting began (less a second for clock skew) outlives a count of 0.
      const since = new Date((o.countedSince ?? now).getTime() - 1_000);
      const r = await queues.bulkWrite(
        counts.map((c) => ({
          updateOne: {
            filter: { _id: c.id },
            update: [
              {
                $set: {
                  readyCount: c.ready,
                  unackedCount: c.unacked,
                  messageCount: c.ready + c.unacked,
                  hasMessages: c.ready > 0 ? true : { $gte: ['$hintedAt', since] },
                  countedAt: now,
                  updatedAt: now,
                },
              },
            ],
          },
        })),
        { ordered: false },
      );
      return r.matchedCount;
    },
    async clock() {
      return new Date();
    },
    async markHasMessages(ids) {
      if (ids.length === 0) return { marked: 0, busy: [] };
      const now = new Date();
      const r = await queues.updateMany(
        { _id: { $in: [...ids] }, deleted: false },
        { $set: { hasMessages: true, hintedAt: now, updatedAt: now } },
      );
      // A document update never waits on a claim in flight: nothing is left for later.
      return { marked: r.matchedCount, busy: [] };
    },
    async expireLeases(o = {}) {
      const now = new Date();
      const or: object[] = [{ leaseExpiresAt: { $lte: now } }];
      if (o.maxAgeMs !== undefined)
        or.push({ leasedAt: { $lte: new Date(now.getTime() - o.maxAgeMs) } });
      const filter = { leaseId: { $type: 'string' as const }, $or: or };
      const docs = await queues.find(filter, { projection: { _id: 1, leaseId: 1 } }).toArray();
      const expired: string[] = [];
      for (const d of docs) {
        // Only the lease we saw: a fresh claim in between keeps its queue.
        const r = await queues.updateOne({ _id: d._id, leaseId: d.leaseId }, [
          {
            $set: {
              state: { $cond: [{ $eq: ['$state', 'busy'] }, 'idle', '$state'] },
              ...NO_LEASE,
              updatedAt: now,
            },
          },
        ]);
        if (r.modifiedCount > 0) expired.push(d._id);
      }
      return expired;
    },
    async list() {
      return (await queues.find({}).sort({ _id: 1 }).toArray()).map(toEntry);
    },
    async get(queue) {
      const d = await queues.findOne({ _id: queue });
      return d ? toEntry(d) : null;
    },
    async remove(queue) {
      return (await queues.deleteOne({ _id: queue })).deletedCount > 0;
    },
    async setStopped(stopped) {
      await control.updateOne(
        { _id: 1 },
        { $set: { stopped, updatedAt: new Date() } },
        { upsert: true },
      );
    },
    async isStopped() {
      return (await control.findOne({ _id: 1 }))?.stopped ?? false;
    },
    close() {
      return handle.close();
    },
  };
  return registry;
}
