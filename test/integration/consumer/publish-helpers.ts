/** Publishing readings messages the way the frontend does (test side). */
import type { Channel } from 'amqplib';
import { readingsMessageOptions } from '../../../src/core/message.js';
import type { Reading } from '../../../src/core/readings.js';

export function reading(
  did: string | number,
  ts: string,
  values: Array<[number, number]>,
  sqn?: number,
): Reading {
  // A number did is valid on the wire (kept as a string by validation).
  return {
    did: did as string,
    ts,
    values: values.map(([p, v]) => ({ p, v })),
    ...(sqn === undefined ? {} : { sqn }),
  };
}

export function publishReadings(
  ch: Channel,
  queue: string,
  sourceKey: string,
  account: string,
  body: string | Buffer,
  opts: {
    receivedAt?: number;
    messageId?: string;
    readingCount?: number;
    valueCount?: number;
  } = {},
): void {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const options = readingsMessageOptions(buf, {
    sourceKey,
    account,
    receivedAt: opts.receivedAt ?? Date.now(),
    readingCount: opts.readingCount ?? 1,
    valueCount: opts.valueCount ?? 1,
  });
  ch.sendToQueue(queue, buf, { ...options, messageId: opts.messageId ?? options.messageId });
}
