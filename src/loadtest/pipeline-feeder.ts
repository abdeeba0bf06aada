/**
 * The load of `ingest loadtest pipeline`: POST /readings over keep-alive
 * connections (undici Pool), every request a distinct batch of readings, so
 * every accepted value must end up as exactly one row. Trickling accounts are
 * paced; a flooding account sends as fast as its connections allow.
 */
import { Pool } from 'undici';
import { makeBodyTemplate } from './readings-generator.js';
import { round } from './stats.js';

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

/** What the frontend accepted during a run, and over how long. */
export interface FrontendFigures {
  requests: number;
  values: number;
  /** From the clock's start to the last answer of any stream that went through HTTP. */
  seconds: number;
  valuesPerSec: number;
  /** Which streams went through the frontend (a queue flood bypasses it). */
  streams: 'trickle' | 'trickle+flood';
}

/**
 * Everything the frontend accepted: the trickle, plus the flood when it went through
 * HTTP (a flood published straight to its queue never saw the frontend), over the
 * whole feeding time (first request to the last answer of either stream).
 */
export function frontendFigures(
  t0: number,
  trickle: FeedResult,
  flood: { result: FeedResult; viaHttp: boolean } | undefined,
): FrontendFigures {
  const http = flood?.viaHttp ? [trickle, flood.result] : [trickle];
  const values = http.reduce((n, f) => n + f.acceptedValues, 0);
  const ms = Math.max(...http.map((f) => f.lastAt)) - t0;
  return {
    requests: http.reduce((n, f) => n + f.accepted, 0),
    values,
    seconds: round(ms / 1000, 2),
    valuesPerSec: ms > 0 ? Math.round((values * 1000) / ms) : 0,
    streams: http.length > 1 ? 'trickle+flood' : 'trickle',
  };
}
