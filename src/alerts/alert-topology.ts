/**
 * The alert queues: `${prefix}alerts` (notifications waiting for delivery), one
 * delay queue per retry step (`${prefix}alerts.retry.<ms>`, a per-queue TTL that
 * dead-letters back into `alerts`: no blocking sleep anywhere), and `alerts.dead`.
 */
import type { Channel } from 'amqplib';
import type { Config } from '../core/config.js';
import { accountQueueOptions } from '../adapters/rabbitmq/topology.js';
import { assertDeadQueue } from '../deadletters/dead-letter-queues.js';

export const ALERT_HEADERS = {
  attempt: 'x-attempt',
  endpoint: 'x-endpoint',
} as const;

export function alertsQueueName(config: Pick<Config, 'queuePrefix'>): string {
  return `${config.queuePrefix}alerts`;
}

export function retryQueueName(config: Pick<Config, 'queuePrefix'>, delayMs: number): string {
  return `${config.queuePrefix}alerts.retry.${delayMs}`;
}

/** Delay before attempt `attempt + 1`: base, 2x base, 4x base ... capped at 5 minutes. */
export function retryDelayMs(baseMs: number, attempt: number): number {
  return Math.min(300_000, Math.max(1, baseMs) * 2 ** Math.max(0, attempt - 1));
}

export async function assertAlertsQueue(
  ch: Channel,
  config: Pick<Config, 'queuePrefix' | 'queueType'>,
): Promise<string> {
  const name = alertsQueueName(config);
  await ch.assertQueue(name, accountQueueOptions(config.queueType));
  return name;
}

export async function assertAlertTopology(
  ch: Channel,
  config: Pick<Config, 'queuePrefix' | 'queueType'>,
): Promise<void> {
  await assertAlertsQueue(ch, config);
  await assertDeadQueue(ch, config, 'alerts');
}

export async function assertRetryQueue(
  ch: Channel,
  config: Pick<Config, 'queuePrefix'>,
  delayMs: number,
): Promise<string> {
  const name = retryQueueName(config, delayMs);
  await ch.assertQueue(name, {
    durable: true,
    arguments: {
      'x-queue-type': 'classic',
      'x-message-ttl': delayMs,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': alertsQueueName(config),
    },
  });
  return name;
}
