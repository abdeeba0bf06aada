import { describe, expect, it } from 'vitest';
import { parseManagementQueue, vhostOf } from '../../../src/maintainer/rabbitmq-management.js';
import { displayState } from '../../../src/registry/registry.js';

describe('management API parsing', () => {
  it('reads counts, counters and rates of GET /api/queues/{vhost}', () => {
    const q = parseManagementQueue({
      name: 'D0000591',
      messages_ready: 12,
      messages_unacknowledged: 3,
      consumers: 1,
      message_stats: {
        publish: 100,
        publish_details: { rate: 4.5 },
        deliver_get: 80,
        deliver_get_details: { rate: 3.2 },
        ack: 77,
        ack_details: { rate: 3.0 },
      },
    });
    expect(q).toEqual({
      name: 'D0000591',
      ready: 12,
      unacked: 3,
      consumers: 1,
      published: 100,
      delivered: 80,
      acked: 77,
      publishRate: 4.5,
      deliverRate: 3.2,
      ackRate: 3.0,
    });
  });

  it('a queue that never saw traffic has no message_stats', () => {
    expect(parseManagementQueue({ name: 'x', messages_ready: 0 })).toMatchObject({
      ready: 0,
      unacked: 0,
      published: null,
      publishRate: null,
    });
    expect(parseManagementQueue({ nope: 1 })).toBeNull();
  });

  it('vhost from the AMQP URL', () => {
    expect(vhostOf('amqp://guest:guest@127.0.0.1:5672')).toBe('/');
    expect(vhostOf('amqp://guest:guest@127.0.0.1:5672/')).toBe('/');
    expect(vhostOf('amqp://h/prod%2Fa')).toBe('prod/a');
  });
});

describe('derived queue state', () => {
  it('deleted > paused > busy > empty > idle', () => {
    expect(displayState({ deleted: true, state: 'paused', hasMessages: true })).toBe('deleted');
    expect(displayState({ deleted: false, state: 'paused', hasMessages: true })).toBe('paused');
    expect(displayState({ deleted: false, state: 'busy', hasMessages: false })).toBe('busy');
    expect(displayState({ deleted: false, state: 'idle', hasMessages: false })).toBe('empty');
    expect(displayState({ deleted: false, state: 'idle', hasMessages: true })).toBe('idle');
  });
});
