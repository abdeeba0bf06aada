/** Shared set-up for frontend tests: a provisioned gateway, synced cache, readings, HTTP calls. */
import type { Channel, GetMessage } from 'amqplib';
import { createCacheSync } from '../../../src/cache-sync/cache-sync.js';
import { createProvisioning } from '../../../src/provisioning/provisioning.js';
import { silentLogger } from '../../../src/core/logger.js';
import type { TestEnv } from '../../helpers/env.js';

export interface Gw {
  key: string;
  token: string;
  account: string;
  queue: string;
}

export async function provisionGateway(env: TestEnv, account: string, key: string): Promise<Gw> {
  const prov = createProvisioning({ pool: env.pool, config: env.config });
  const accounts = await prov.listAccounts();
  if (!accounts.some((a) => a.id === account)) await prov.addAccount({ id: account });
  const { token } = await prov.addGateway({ sourceKey: key, accountId: account });
  await syncCache(env);
  return { key, token, account, queue: env.queueName(account) };
}

export async function syncCache(env: TestEnv): Promise<void> {
  const sync = createCacheSync({
    config: env.config,
    logger: silentLogger(),
    pool: env.pool,
    redis: env.redis,
  });
  await sync.syncOnce();
  await sync.close();
}

let seq = 0;
/** n distinct, valid readings. */
export function readings(n: number): Array<Record<string, unknown>> {
  const base = Date.parse('2024-01-01T00:00:00Z') + (seq += 1) * 86_400_000;
  return Array.from({ length: n }, (_, i) => ({
    did: String(i % 50),
    values: [
      { p: 402, v: i * 1.5 },
      { p: 404, v: 70010 + i },
    ],
    sqn: i,
    ts: new Date(base + i * 60_000).toISOString().replace('Z', '+00:00'),
  }));
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
  ms: number;
}

export async function postReadings(
  url: string,
  gw: { key: string; token: string },
  body: unknown,
  opts: { headers?: Record<string, string>; tokenIn?: 'query' | 'header'; raw?: Buffer } = {},
): Promise<Answer> {
  const q = new URLSearchParams({ source_key: gw.key });
  const headers: Record<string, string> = { 'content-type': 'application/json', ...opts.headers };
  if (opts.tokenIn === 'header') headers['x-dexcell-source-token'] = gw.token;
  else q.set('x-dexcell-source-token', gw.token);
  const t0 = Date.now();
  const res = await fetch(`${url}/readings?${q.toString()}`, {
    method: 'POST',
    headers,
    body: opts.raw ?? (typeof body === 'string' ? body : JSON.stringify(body)),
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { status: res.status, body: parsed, headers: res.headers, ms: Date.now() - t0 };
}

/** Take every message now in the queue (acked: the queue is left empty). */
export async function drain(ch: Channel, queue: string): Promise<GetMessage[]> {
  const out: GetMessage[] = [];
  for (;;) {
    const m = await ch.get(queue, { noAck: true });
    if (m === false) return out;
    out.push(m);
  }
}

export async function depth(ch: Channel, queue: string): Promise<number> {
  return (await ch.checkQueue(queue)).messageCount;
}
