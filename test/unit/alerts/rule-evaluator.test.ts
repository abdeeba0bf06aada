import { describe, expect, it } from 'vitest';
import { evaluateRules, idempotencyKey } from '../../../src/alerts/rule-evaluator.js';
import type { AlertRule } from '../../../src/alerts/alerts.repo.js';
import { retryDelayMs } from '../../../src/alerts/alert-topology.js';
import { signBody } from '../../../src/notifier/http-delivery.js';
import { createHmac } from 'node:crypto';

const rule = (over: Partial<AlertRule>): AlertRule => ({
  id: 1,
  account: 'D1',
  gateway: null,
  device: null,
  param: 402,
  above: null,
  below: null,
  endpoint: 'ops',
  createdAt: '',
  ...over,
});
const row = (
  over: Partial<{
    sourceKey: string;
    device: string;
    param: number;
    value: number;
    ts: string;
  }> = {},
) => ({
  account: 'D1',
  sourceKey: 'GW',
  device: '12',
  param: 402,
  ts: '2015-04-21T23:15:00.000Z',
  value: 200_000,
  ...over,
});

describe('evaluateRules', () => {
  it('fires above/below, filters by gateway/device/param', () => {
    const rules = [
      rule({ id: 1, above: 150_000 }),
      rule({ id: 2, below: 10, device: '9' }),
      rule({ id: 3, above: 0, gateway: 'OTHER' }),
      rule({ id: 4, above: 0, param: 404 }),
    ];
    const out = evaluateRules(rules, [row(), row({ device: '9', value: 5 }), row({ value: 100 })]);
    expect(out.map((n) => [n.ruleId, n.condition, n.reading.device, n.threshold])).toEqual([
      [1, 'above', '12', 150_000],
      [2, 'below', '9', 10],
    ]);
  });

  it('a band rule (above and below) fires outside it; nothing at the threshold itself', () => {
    const r = [rule({ above: 100, below: 10 })];
    expect(evaluateRules(r, [row({ value: 100 }), row({ value: 10 }), row({ value: 50 })])).toEqual(
      [],
    );
    expect(
      evaluateRules(r, [row({ value: 101 }), row({ value: 9 })]).map((n) => n.condition),
    ).toEqual(['above', 'below']);
  });

  it('the idempotency key depends on rule and reading only (same on a replay)', () => {
    const a = idempotencyKey(1, row());
    expect(idempotencyKey(1, row({ value: 1 }))).toBe(a);
    expect(idempotencyKey(2, row())).not.toBe(a);
    expect(idempotencyKey(1, row({ ts: '2015-04-21T23:30:00.000Z' }))).not.toBe(a);
    expect(evaluateRules([rule({ above: 0 })], [row()])[0]!.idempotencyKey).toBe(a);
  });
});

describe('retries and signatures', () => {
  it('doubles the delay per attempt, capped at 5 minutes', () => {
    expect([1, 2, 3, 4].map((a) => retryDelayMs(1_000, a))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(retryDelayMs(1_000, 30)).toBe(300_000);
  });
  it('signs the body with HMAC-SHA256', () => {
    expect(signBody('k', '{"a":1}')).toBe(
      `sha256=${createHmac('sha256', 'k').update('{"a":1}').digest('hex')}`,
    );
  });
});
