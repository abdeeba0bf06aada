/**
 * The load of `ingest loadtest pipeline`: POST /readings over keep-alive
 * connections (undici Pool), every request a distinct batch of readings, so
 * every accepted value must end up as exactly one row. Trickling accounts are
 * paced; a flooding account sends as fast as its connections allow.
 */
import { Pool } from 'undici';
import { makeBodyTemplate } from './readings-generator.js';

export interface FeedGateway {
  account: string;
  sourceKey: string;
  token: string;
}

export interface FeedStream {
  gateways: readonly FeedGateway[];
  /** Requests to send in total, round-robin over the gateways. */
  requests: number;
  readingsPerRequest: number;
  connections: number;
  /** Pause between two requests of one connection (0: as fast as possible). */
  pauseMs: number;
}

export interface FeedResult {
  sent: number;
  accepted: number;
  acceptedReadings: number;
  acceptedValues: number;
  rejected: Record<string, number>;
  firstAt: number;
  lastAt: number;
}

export function emptyFeedResult(): FeedResult {
  return {
    sent: 0,
    accepted: 0,
    acceptedReadings: 0,
    acceptedValues: 0,
    rejected: {},
    firstAt: Date.now(),
    lastAt: Date.now(),
  };
}

let seqBase = 0;

export async function feed(
  url: string,
  stream: FeedStream,
  signal: AbortSignal,
  onAccepted?: (values: number) => void,
): Promise<FeedResult> {
  const pool = new Pool(url, { connections: stream.connections, pipelining: 1 });
  const template = makeBodyTemplate(stream.readingsPerRequest);
  const result = emptyFeedResult();
  let next = 0;
  // Unique across streams of one process: every request is a distinct set of readings.
  const base = seqBase;
  seqBase += stream.requests + 1;
  try {
    await Promise.all(
      Array.from({ length: stream.connections }, async () => {
        while (!signal.aborted) {
          const i = next++;
          if (i >= stream.requests) return;
          const gw = stream.gateways[i % stream.gateways.length]!;
          const path = `/readings?source_key=${encodeURIComponent(gw.sourceKey)}&x-dexcell-source-token=${encodeURIComponent(gw.token)}`;
          result.sent += 1;
          let status = 0;
          try {
            const res = await pool.request({
              method: 'POST',
              path,
              headers: { 'content-type': 'application/json' },
              body: template.body(base + i),
            });
            status = res.statusCode;
            await res.body.dump();
          } catch {
            status = 0;
          }
          result.lastAt = Date.now();
          if (status === 200) {
            result.accepted += 1;
            result.acceptedReadings += template.readings;
            result.acceptedValues += template.values;
            onAccepted?.(template.values);
          } else {
            const k = status === 0 ? 'network' : String(status);
            result.rejected[k] = (result.rejected[k] ?? 0) + 1;
          }
          if (stream.pauseMs > 0) await new Promise((r) => setTimeout(r, stream.pauseMs));
        }
      }),
    );
  } finally {
    await pool.close();
  }
  return result;
}
