/**
 * Makes sure an account's queue exists before the first publish to it (once per
 * process per account, re-checked after a reconnect or a failed publish) and,
 * when backpressure is on, knows roughly how deep it is.
 */
import type { Channel } from 'amqplib';
import { accountQueueName, type Config } from '../core/config.js';
import { IngestError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { AmqpConnection } from '../adapters/rabbitmq/connection.js';
import { accountQueueOptions } from '../adapters/rabbitmq/topology.js';

const DEPTH_TTL_MS = 1_000;

export interface AccountQueues {
  /** The queue name, once it is known to exist. */
  ensure(account: string): Promise<string>;
  /** Forget what we know (the queue may have been deleted). */
  forget(account: string): void;
  /** Messages in the queue, at most ~1 s old. */
  depth(account: string): Promise<number>;
}

export function createAccountQueues(deps: {
  conn: AmqpConnection;
  config: Pick<Config, 'queuePrefix' | 'queueType'>;
  logger: Logger;
}): AccountQueues {
  const { conn, config } = deps;
  const known = new Map<string, Promise<string>>();
  const depths = new Map<string, { at: number; messages: number }>();
  let channel: Promise<Channel> | undefined;

  conn.on('disconnect', () => {
    known.clear();
    depths.clear();
    channel = undefined;
  });

  function topologyChannel(): Promise<Channel> {
    if (!channel) {
      const p = conn.createChannel().then((ch) => {
        ch.on('close', () => {
          if (channel === p) channel = undefined;
        });
        return ch;
      });
      p.catch(() => {
        if (channel === p) channel = undefined;
      });
      channel = p;
    }
    return channel;
  }

  function unavailable(err: unknown): IngestError {
    return new IngestError(
      'BROKER_UNAVAILABLE',
      `cannot declare the account queue: ${errorMessage(err)}`,
      {
        retryAfter: 2,
        cause: err,
      },
    );
  }

  async function declare(account: string): Promise<string> {
    const name = accountQueueName(config, account);
    if (!conn.connected) throw unavailable('RabbitMQ is not connected');
    try {
      const ch = await topologyChannel();
      const ok = await ch.assertQueue(name, accountQueueOptions(config.queueType));
      depths.set(account, { at: Date.now(), messages: ok.messageCount });
    } catch (err) {
      // 406: the queue exists with other arguments (declared elsewhere): it is routable.
      if ((err as { code?: number }).code !== 406) throw unavailable(err);
      deps.logger.debug({ queue: name }, 'account queue exists with other arguments');
    }
    return name;
  }

  return {
    ensure(account) {
      let p = known.get(account);
      if (!p) {
        p = declare(account);
        known.set(account, p);
        p.catch(() => {
          if (known.get(account) === p) known.delete(account);
        });
      }
      return p;
    },
    forget(account) {
      known.delete(account);
      depths.delete(account);
    },
    async depth(account) {
      const hit = depths.get(account);
      if (hit && Date.now() - hit.at < DEPTH_TTL_MS) return hit.messages;
      const name = accountQueueName(config, account);
      try {
        const ch = await topologyChannel();
        const q = await ch.checkQueue(name);
        depths.set(account, { at: Date.now(), messages: q.messageCount });
        return q.messageCount;
      } catch (err) {
        if ((err as { code?: number }).code === 404) {
          known.delete(account);
          return 0;
        }
        throw unavailable(err);
      }
    },
  };
}
