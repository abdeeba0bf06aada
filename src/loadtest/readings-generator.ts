/**
 * Realistic request bodies for load tests: distinct devices, parameters and
 * timestamps, so no two requests collapse into duplicate rows downstream.
 * Building a 600 KB body per request would load the generator more than the
 * server, so a body is a template split around a placeholder in every device
 * id, and each request joins the parts with its own sequence number (~1 ms).
 */
import type { Reading } from '../core/readings.js';

const PLACEHOLDER = '@@SEQ@@';
const PARAMS = [402, 404, 406, 408] as const;

export interface BodyTemplate {
  readings: number;
  values: number;
  /** The body of request number `seq` (unique per seq). */
  body(seq: number): string;
}

export function makeReadings(
  count: number,
  opts: { device?: (i: number) => string; start?: number } = {},
): Reading[] {
  const start = opts.start ?? Date.UTC(2015, 3, 21, 0, 0, 0);
  const out: Reading[] = [];
  for (let i = 0; i < count; i++) {
    out.push({
      did: opts.device ? opts.device(i) : String(i % 250),
      values: [
        { p: PARAMS[i % 2]!, v: 190_000 + ((i * 37) % 10_000) + 0.5 },
        { p: PARAMS[2 + (i % 2)]!, v: 70_000 + ((i * 11) % 5_000) },
      ],
      sqn: i,
      // One reading per device per 15 minutes, like real meters.
      ts: new Date(start + Math.floor(i / 250) * 900_000).toISOString().replace('Z', '+00:00'),
    });
  }
  return out;
}

export function makeBodyTemplate(readingsPerRequest: number): BodyTemplate {
  const readings = makeReadings(readingsPerRequest, { device: (i) => `${PLACEHOLDER}-${i % 250}` });
  const parts = JSON.stringify(readings).split(PLACEHOLDER);
  return {
    readings: readingsPerRequest,
    values: readingsPerRequest * 2,
    body: (seq: number) => parts.join(`m${seq.toString(36)}`),
  };
}
