/**
 * Publish hints in a real Redis: the set a dispatcher pops, and the pub/sub
 * message it wakes waiting consumers on, sent only for a hint new to the set.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addHint,
  hintsKey,
  popHints,
  subscribeHints,
  type HintSubscription,
} from '../../../src/adapters/redis/queue-hints.js';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';

let env: TestEnv;
let sub: HintSubscription | undefined;

beforeAll(async () => {
  env = await createTestEnv();
});

afterAll(async () => {
  await sub?.close();
  await env?.cleanup();
});

async function hint(account: string): Promise<void> {
  const multi = env.redis.multi();
  addHint(multi, env.config.redisPrefix, account);
  await multi.exec();
}

describe('publish hints', () => {
  it('a hint new to the set is published once; repeats wait for the pop', async () => {
    let messages = 0;
    sub = subscribeHints(env.redis, env.config.redisPrefix, () => (messages += 1));
    await sub.ready;
    await hint('A1');
    await hint('A1');
    await hint('A1');
    await hint('A2');
    const deadline = Date.now() + 2_000;
    while (messages < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    expect(messages).toBe(2);
    expect((await env.redis.smembers(hintsKey(env.config.redisPrefix))).sort()).toEqual([
      'A1',
      'A2',
    ]);
    // Popped by a dispatcher: the next publish to A1 is news again.
    expect((await popHints(env.redis, env.config.redisPrefix)).sort()).toEqual(['A1', 'A2']);
    await hint('A1');
    const again = Date.now() + 2_000;
    while (messages < 3 && Date.now() < again) await new Promise((r) => setTimeout(r, 10));
    expect(messages).toBe(3);
  });
});
