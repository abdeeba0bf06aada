/** Queue declarations shared by every component. */
import type { Channel } from 'amqplib';

export type QueueType = 'quorum' | 'classic';

/** Arguments of a per-account queue; the same everywhere, or RabbitMQ refuses the redeclare. */
export function accountQueueOptions(type: QueueType): {
  durable: true;
  arguments: Record<string, unknown>;
} {
  return { durable: true, arguments: { 'x-queue-type': type } };
}

export async function assertAccountQueue(
  ch: Channel,
  name: string,
  type: QueueType,
): Promise<void> {
  await ch.assertQueue(name, accountQueueOptions(type));
}

/** Ready + unacked counts via passive declare (no management plugin needed). */
export async function queueDepth(
  ch: Channel,
  name: string,
): Promise<{ messages: number; consumers: number } | undefined> {
  try {
    const q = await ch.checkQueue(name);
    return { messages: q.messageCount, consumers: q.consumerCount };
  } catch (err) {
    // 404 NOT_FOUND closes the channel; the caller's channel is gone.
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}
