/**
 * The demo site `ingest up --demo` provisions: a few accounts with two gateways
 * each, with fixed, printed tokens so that `curl` examples work. Demo only:
 * anyone who reads this file knows the tokens.
 */
import type { Reading } from '../core/readings.js';

export interface DemoGateway {
  sourceKey: string;
  account: string;
  token: string;
}

export interface DemoFleet {
  accounts: Array<{ id: string; name: string }>;
  gateways: DemoGateway[];
}

export function demoFleet(accounts = 5, gatewaysPerAccount = 2): DemoFleet {
  const out: DemoFleet = { accounts: [], gateways: [] };
  for (let a = 1; a <= accounts; a++) {
    const id = `D${String(a).padStart(7, '0')}`;
    out.accounts.push({ id, name: `Demo site ${a}` });
    for (let g = 1; g <= gatewaysPerAccount; g++) {
      const hex = (n: number): string => n.toString(16).toUpperCase().padStart(2, '0');
      out.gateways.push({
        sourceKey: `02:DE:00:00:${hex(a)}:${hex(g)}`,
        account: id,
        token: `demo-${hex(a)}${hex(g)}-7f3a9c2e51b84d06`,
      });
    }
  }
  return out;
}

/** Meter state of one device: cumulative energy counters grow with its power draw. */
export interface MeterState {
  device: string;
  activeKwh: number;
  reactiveKvarh: number;
  powerKw: number;
  sqn: number;
}

export function initialMeters(sourceKey: string, devices: number): MeterState[] {
  let seed = 0;
  for (const ch of sourceKey) seed = (seed * 31 + ch.charCodeAt(0)) % 100_000;
  return Array.from({ length: devices }, (_, i) => ({
    device: String(i + 1),
    activeKwh: 100_000 + ((seed * (i + 7)) % 90_000),
    reactiveKvarh: 40_000 + ((seed * (i + 3)) % 30_000),
    powerKw: 5 + ((seed + i * 13) % 40),
    sqn: 0,
  }));
}

const round = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits;

/**
 * Advance the meters by `elapsedMs` and return one reading per device stamped
 * `at`: p402 active energy (kWh), p404 reactive energy (kvarh), p406 power (kW),
 * p407 voltage (V). `random` is injectable for tests.
 */
export function nextReadings(
  meters: MeterState[],
  at: number,
  elapsedMs: number,
  random: () => number = Math.random,
): Reading[] {
  const hours = elapsedMs / 3_600_000;
  const ts = new Date(at).toISOString().replace('Z', '+00:00');
  return meters.map((m) => {
    m.powerKw = Math.max(0.5, m.powerKw * (0.95 + random() * 0.1));
    m.activeKwh += m.powerKw * hours;
    m.reactiveKvarh += m.powerKw * 0.3 * hours;
    m.sqn += 1;
    return {
      did: m.device,
      values: [
        { p: 402, v: round(m.activeKwh, 3) },
        { p: 404, v: round(m.reactiveKvarh, 3) },
        { p: 406, v: round(m.powerKw, 3) },
        { p: 407, v: round(228 + random() * 6, 1) },
      ],
      sqn: m.sqn,
      ts,
    };
  });
}
