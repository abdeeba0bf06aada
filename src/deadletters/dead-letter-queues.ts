/**
 * Dead-letter queues: `${prefix}readings.dead` for readings messages that can
 * never be stored, `${prefix}alerts.dead` for notifications out of retries.
 * A dead letter keeps its body and headers and gains why, from where and when.
 */
import type { Channel } from 'amqplib';
import type { Config } from '../core/config.js';
import { accountQueueOptions } from '../adapters/rabbitmq/topology.js';

export const DEAD_HEADERS = {
  reason: 'x-dead-reason',
  queue: 'x-dead-queue',
  at: 'x-dead-at',
} as const;

export type DeadKind = 'readings' | 'alerts';

export function deadQueueName(config: Pick<Config, 'queuePrefix'>, kind: DeadKind): string {
  return `${config.queuePrefix}${kind}.dead`;
}

export async function assertDeadQueue(
  ch: Channel,
  config: Pick<Config, 'queuePrefix' | 'queueType'>,
  kind: DeadKind,
): Promise<string> {
  const name = deadQueueName(config, kind);
  await ch.assertQueue(name, accountQueueOptions(config.queueType));
  return name;
}

export function deadHeaders(
  original: Record<string, unknown> | undefined,
  reason: string,
  fromQueue: string,
): Record<string, unknown> {
  return {
    ...(original ?? {}),
    [DEAD_HEADERS.reason]: reason.slice(0, 1_000),
    [DEAD_HEADERS.queue]: fromQueue,
    [DEAD_HEADERS.at]: new Date().toISOString(),
  };
}
