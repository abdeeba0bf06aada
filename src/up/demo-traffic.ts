/**
 * A small, bounded load generator for the demo: POSTs realistic readings for
 * the demo gateways to the frontend at a fixed request rate, round-robin over
 * gateways, until the duration is up. Loopback only, never more than
 * `maxInFlight` requests outstanding (a slow frontend slows it down instead
 * of piling requests up).
 */
import http from 'node:http';
import { errorMessage } from '../core/errors.js';
import { initialMeters, nextReadings, type DemoGateway, type MeterState } from './demo-fleet.js';

export interface DemoTrafficOptions {
  frontendUrl: string;
  gateways: readonly DemoGateway[];
  ratePerSec: number;
  durationMs: number;
  devicesPerGateway?: number;
  maxInFlight?: number;
}

export interface DemoTrafficStats {
  running: boolean;
  sent: number;
  ok: number;
  readingsAccepted: number;
  /** Non-2xx answers by status. */
  rejected: Record<string, number>;
  errors: number;
  lastProblem: string | undefined;
  endsAt: number;
}

export interface DemoTraffic {
  start(): void;
  stats(): DemoTrafficStats;
  stop(): Promise<void>;
}

export function createDemoTraffic(opts: DemoTrafficOptions): DemoTraffic {
  const base = new URL(opts.frontendUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const maxInFlight = opts.maxInFlight ?? 32;
  const meters = new Map<string, { state: MeterState[]; last: number }>();
  for (const g of opts.gateways)
    meters.set(g.sourceKey, {
      state: initialMeters(g.sourceKey, opts.devicesPerGateway ?? 4),
      last: Date.now(),
    });
  const stats: DemoTrafficStats = {
    running: false,
    sent: 0,
    ok: 0,
    readingsAccepted: 0,
    rejected: {},
    errors: 0,
    lastProblem: undefined,
    endsAt: 0,
  };
  let inFlight = 0;
  let timer: NodeJS.Timeout | undefined;
  let startedAt = 0;
  let next = 0;
  let idle: (() => void) | undefined;

  function post(gw: DemoGateway): void {
    const m = meters.get(gw.sourceKey)!;
    const now = Date.now();
    const body = JSON.stringify(nextReadings(m.state, now, now - m.last));
    m.last = now;
    const query = new URLSearchParams({
      source_key: gw.sourceKey,
      'x-dexcell-source-token': gw.token,
    });
    inFlight += 1;
    stats.sent += 1;
    const req = http.request(
      {
        agent,
        host: base.hostname,
        port: base.port || 80,
        method: 'POST',
        path: `/readings?${query.toString()}`,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            stats.ok += 1;
            stats.readingsAccepted += m.state.length;
          } else {
            stats.rejected[status] = (stats.rejected[status] ?? 0) + 1;
            stats.lastProblem = `HTTP ${status} ${Buffer.concat(chunks).toString('utf8').slice(0, 120)}`;
          }
          done();
        });
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10s')));
    req.on('error', (err: Error) => {
      stats.errors += 1;
      stats.lastProblem = errorMessage(err);
      done();
    });
    req.end(body);
  }

  function done(): void {
    inFlight -= 1;
    if (inFlight === 0 && !stats.running) idle?.();
  }

  function tick(): void {
    const now = Date.now();
    if (now >= stats.endsAt) {
      stopTimer();
      return;
    }
    // Catch up to the schedule, bounded by the in-flight cap.
    const due = Math.floor(((now - startedAt) / 1000) * opts.ratePerSec);
    while (stats.sent < due && inFlight < maxInFlight && opts.gateways.length > 0) {
      post(opts.gateways[next % opts.gateways.length]!);
      next += 1;
    }
  }

  function stopTimer(): void {
    if (timer) clearInterval(timer);
    timer = undefined;
    stats.running = false;
  }

  return {
    start() {
      if (timer || opts.ratePerSec <= 0) return;
      startedAt = Date.now();
      stats.endsAt = startedAt + opts.durationMs;
      stats.running = true;
      timer = setInterval(tick, Math.max(10, Math.min(100, 1000 / opts.ratePerSec)));
    },
    stats: () => ({ ...stats, rejected: { ...stats.rejected } }),
    async stop() {
      stopTimer();
      if (inFlight > 0)
        await Promise.race([
          new Promise<void>((r) => (idle = r)),
          new Promise((r) => setTimeout(r, 5_000)),
        ]);
      agent.destroy();
    },
  };
}
