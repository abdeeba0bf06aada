/**
 * Per-gateway statistics, written by the frontend after each confirmed publish
 * in one round trip and read by `ingest gateways show` and /admin/gateways.
 * Layout (prefix = config.redisPrefix):
 *   <prefix>stats:<source_key>:<h|d|w|m>:<bucket>  readings counter of one hour/day/week/month,
 *       bucket = UTC hours / days since the epoch, ISO weeks (Monday) since the epoch, year*12+month;
 *       expires after four periods
 *   <prefix>last:<source_key>  list of the last 10 messages, newest first, JSON
 *       {at, readings, messageId, bytes}
 * The same round trip carries the publish hint for the gateway's account (queue-hints.ts).
 */
import type { Redis } from 'ioredis';
import { addHint } from './queue-hints.js';

export const PERIODS = ['hour', 'day', 'week', 'month'] as const;
export type Period = (typeof PERIODS)[number];

const CODE: Record<Period, string> = { hour: 'h', day: 'd', week: 'w', month: 'm' };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TTL_SECONDS: Record<Period, number> = {
  hour: (4 * HOUR) / 1000,
  day: (4 * DAY) / 1000,
  week: (4 * 7 * DAY) / 1000,
  month: (4 * 31 * DAY) / 1000,
};
export const LAST_MESSAGES = 10;

export function bucketOf(period: Period, ms: number): number {
  switch (period) {
    case 'hour':
      return Math.floor(ms / HOUR);
    case 'day':
      return Math.floor(ms / DAY);
    case 'week':
      // Epoch day 0 was a Thursday; +3 makes weeks start on Monday.
      return Math.floor((Math.floor(ms / DAY) + 3) / 7);
    case 'month': {
      const d = new Date(ms);
      return d.getUTCFullYear() * 12 + d.getUTCMonth();
    }
  }
}

export function statsKey(
  prefix: string,
  sourceKey: string,
  period: Period,
  bucket: number,
): string {
  return `${prefix}stats:${sourceKey}:${CODE[period]}:${bucket}`;
}

export function lastMessagesKey(prefix: string, sourceKey: string): string {
  return `${prefix}last:${sourceKey}`;
}

export interface MessageRecord {
  /** ISO time the request was received. */
  at: string;
  readings: number;
  messageId: string;
  bytes: number;
}

export interface PeriodCounts {
  now: number;
  last: number;
  before: number;
}

export interface GatewayStats {
  readings: Record<Period, PeriodCounts>;
  lastMessages: MessageRecord[];
}

export function createGatewayStats(redis: Redis, prefix: string) {
  return {
    /**
     * One round trip (MULTI) per request: four counters with their expiry, its
     * messages (one, or one per chunk) on the last-messages list, and, given the
     * account, the publish hint for its queue.
     */
    async record(
      sourceKey: string,
      msgs: readonly MessageRecord[],
      atMs: number,
      account?: string,
    ): Promise<void> {
      if (msgs.length === 0) return;
      const readings = msgs.reduce((n, m) => n + m.readings, 0);
      const multi = redis.multi();
      for (const p of PERIODS) {
        const key = statsKey(prefix, sourceKey, p, bucketOf(p, atMs));
        multi.incrby(key, readings);
        multi.expire(key, TTL_SECONDS[p]);
      }
      const list = lastMessagesKey(prefix, sourceKey);
      multi.lpush(list, ...msgs.map((m) => JSON.stringify(m)));
      multi.ltrim(list, 0, LAST_MESSAGES - 1);
      if (account !== undefined) addHint(multi, prefix, account);
      const res = await multi.exec();
      for (const [err] of res ?? []) if (err) throw err;
    },

    async read(sourceKey: string, nowMs = Date.now()): Promise<GatewayStats> {
      const pipe = redis.pipeline();
      for (const p of PERIODS) {
        const b = bucketOf(p, nowMs);
        pipe.mget(
          statsKey(prefix, sourceKey, p, b),
          statsKey(prefix, sourceKey, p, b - 1),
          statsKey(prefix, sourceKey, p, b - 2),
        );
      }
      pipe.lrange(lastMessagesKey(prefix, sourceKey), 0, LAST_MESSAGES - 1);
      const res = (await pipe.exec()) ?? [];
      const readings = {} as Record<Period, PeriodCounts>;
      PERIODS.forEach((p, i) => {
        const [err, v] = res[i] ?? [null, []];
        if (err) throw err;
        const [a, b, c] = (v as Array<string | null>).map((x) => Number(x ?? 0));
        readings[p] = { now: a ?? 0, last: b ?? 0, before: c ?? 0 };
      });
      const [err, raw] = res[PERIODS.length] ?? [null, []];
      if (err) throw err;
      const lastMessages: MessageRecord[] = [];
      for (const s of raw as string[]) {
        try {
          lastMessages.push(JSON.parse(s) as MessageRecord);
        } catch {
          // A malformed entry (hand-edited Redis) is skipped, not fatal for the page.
        }
      }
      return { readings, lastMessages };
    },
  };
}

export type GatewayStatsStore = ReturnType<typeof createGatewayStats>;
