/** The RabbitMQ connection says why it cannot connect when a caller gives up waiting. */
import { describe, expect, it } from 'vitest';
import { createAmqpConnection } from '../../../src/adapters/rabbitmq/connection.js';
import { silentLogger } from '../../../src/core/logger.js';
import { AMQP_URL } from '../../helpers/env.js';

describe('amqp connection', () => {
  it('a refused login is named as such, with what to check, and the password stays out', async () => {
    const url = new URL(AMQP_URL);
    url.password = 'not-the-password';
    const conn = createAmqpConnection({ url: url.toString(), logger: silentLogger() });
    try {
      const err: unknown = await conn.ready(2_500).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'BROKER_UNAVAILABLE' });
      const message = (err as Error).message;
      expect(message).toMatch(/refused the login: check the user and password/);
      expect(message).toMatch(/ACCESS[-_]REFUSED/);
      expect(message).not.toContain('not-the-password');
    } finally {
      await conn.close();
    }
  });

  it('an unreachable broker says so, with the error', async () => {
    const conn = createAmqpConnection({
      url: 'amqp://guest:guest@127.0.0.1:1',
      logger: silentLogger(),
    });
    try {
      const err: unknown = await conn.ready(1_500).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(
        /not reachable at amqp:\/\/guest:\*\*\*@127\.0\.0\.1:1.*ECONNREFUSED/,
      );
    } finally {
      await conn.close();
    }
  });
});
