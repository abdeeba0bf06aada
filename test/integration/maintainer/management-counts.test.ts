/**
 * The management-API path of step 2. The plugin is off on these machines, so a
 * stand-in HTTP server answers GET /api/queues/{vhost} in the plugin's format;
 * everything else (PostgreSQL, RabbitMQ, Redis) is real.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import { createMaintainerFromConfig } from '../../../src/maintainer/run.js';
import { createManagementApi } from '../../../src/maintainer/rabbitmq-management.js';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';

let env: TestEnv;
let mgmt: FastifyInstance;
let mgmtUrl: string;
const seen: Array<{ url: string; auth: string | undefined }> = [];

beforeAll(async () => {
  env = await createTestEnv();
  env.queueName('M1');
  env.queueName('M2');
  await env.pool.query(`INSERT INTO accounts (id, name) VALUES ('M1', 'one'), ('M2', 'two')`);
  mgmt = Fastify();
  mgmt.get('/api/queues/:vhost', async (req) => {
    seen.push({ url: req.url, auth: req.headers.authorization });
    return [
      {
        name: `${env.config.queuePrefix}M1`,
        messages_ready: 7,
        messages_unacknowledged: 2,
        consumers: 1,
        message_stats: { publish: 10, publish_details: { rate: 1.5 } },
      },
      { name: `${env.config.queuePrefix}M2`, messages_ready: 0, messages_unacknowledged: 0 },
      { name: 'someone.else', messages_ready: 99, messages_unacknowledged: 0 },
    ];
  });
  const addr = await mgmt.listen({ host: '127.0.0.1', port: 0 });
  mgmtUrl = addr.replace('http://', 'http://guest:s3cret@');
});

afterAll(async () => {
  await mgmt?.close();
  await env?.cleanup();
});

describe('counts from the management API', () => {
  it('uses it when reachable: ready and unacked per queue, Basic auth from the URL, vhost from the AMQP URL', async () => {
    const m = await createMaintainerFromConfig({
      config: env.with({ managementUrl: mgmtUrl }),
      logger: silentLogger(),
    });
    try {
      const r = await m.runOnce();
      expect(r.errors).toEqual([]);
      expect(r.counts).toMatchObject({ source: 'management', counted: 2, missing: [] });
      const rows = await env.pool.query<{
        id: string;
        ready_count: number;
        unacked_count: number;
        has_messages: boolean;
      }>('SELECT id, ready_count, unacked_count, has_messages FROM queue_registry ORDER BY id');
      expect(rows.rows).toEqual([
        { id: 'M1', ready_count: 7, unacked_count: 2, has_messages: true },
        { id: 'M2', ready_count: 0, unacked_count: 0, has_messages: false },
      ]);
      expect(seen[0]).toEqual({
        url: '/api/queues/%2F',
        auth: `Basic ${Buffer.from('guest:s3cret').toString('base64')}`,
      });
    } finally {
      await m.close();
    }
  });

  it('the client filters by prefix and reports an unreachable API as BROKER_UNAVAILABLE', async () => {
    const api = createManagementApi({ url: mgmtUrl, amqpUrl: env.config.amqpUrl });
    expect((await api.queues(env.config.queuePrefix)).map((q) => q.name)).toEqual([
      `${env.config.queuePrefix}M1`,
      `${env.config.queuePrefix}M2`,
    ]);
    const down = createManagementApi({ url: 'http://127.0.0.1:9', amqpUrl: env.config.amqpUrl });
    await expect(down.queues()).rejects.toMatchObject({ code: 'BROKER_UNAVAILABLE' });
  });
});
