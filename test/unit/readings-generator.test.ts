import { describe, expect, it } from 'vitest';
import { makeBodyTemplate } from '../../src/loadtest/readings-generator.js';
import { validateReadings } from '../../src/core/readings.js';

describe('load-test body template', () => {
  it('makes valid readings whose keys are distinct within and across requests', () => {
    const t = makeBodyTemplate(600);
    const keys = new Set<string>();
    for (const seq of [1, 2]) {
      const parsed: unknown = JSON.parse(t.body(seq));
      const r = validateReadings(parsed);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.readings).toHaveLength(600);
      for (const reading of r.readings) {
        for (const v of reading.values) keys.add(`${reading.did}|${v.p}|${reading.ts}`);
      }
    }
    expect(keys.size).toBe(2 * t.values);
  });
});
