/**
 * Which newly stored rows cross which rules. Pure: the consumer hands it the
 * rows its transaction inserted (never replayed ones) and the cached rules.
 */
import { createHash } from 'node:crypto';
import type { NewRow } from '../consumer/readings-store.js';
import type { AlertRule } from './alerts.repo.js';

export interface AlertNotification {
  idempotencyKey: string;
  ruleId: number;
  endpoint: string;
  condition: 'above' | 'below';
  threshold: number;
  reading: {
    account: string;
    sourceKey: string;
    device: string;
    param: number;
    ts: string;
    value: number;
  };
  rule: AlertRule;
  detectedAt: string;
}

/** Same rule and same reading value -> same key, whoever detects it and however often. */
export function idempotencyKey(ruleId: number, row: NewRow): string {
  return createHash('sha256')
    .update(`${ruleId}\n${row.sourceKey}\n${row.device}\n${row.param}\n${row.ts}`)
    .digest('hex')
    .slice(0, 40);
}

function matches(rule: AlertRule, row: NewRow): boolean {
  return (
    rule.param === row.param &&
    (rule.gateway === null || rule.gateway === row.sourceKey) &&
    (rule.device === null || rule.device === row.device)
  );
}

export function evaluateRules(
  rules: readonly AlertRule[],
  rows: readonly NewRow[],
  now = new Date(),
): AlertNotification[] {
  if (rules.length === 0) return [];
  const out: AlertNotification[] = [];
  const detectedAt = now.toISOString();
  for (const row of rows) {
    for (const rule of rules) {
      if (!matches(rule, row)) continue;
      let condition: 'above' | 'below' | undefined;
      let threshold = 0;
      if (rule.above !== null && row.value > rule.above) {
        condition = 'above';
        threshold = rule.above;
      } else if (rule.below !== null && row.value < rule.below) {
        condition = 'below';
        threshold = rule.below;
      }
      if (!condition) continue;
      out.push({
        idempotencyKey: idempotencyKey(rule.id, row),
        ruleId: rule.id,
        endpoint: rule.endpoint,
        condition,
        threshold,
        reading: {
          account: row.account,
          sourceKey: row.sourceKey,
          device: row.device,
          param: row.param,
          ts: row.ts,
          value: row.value,
        },
        rule,
        detectedAt,
      });
    }
  }
  return out;
}
