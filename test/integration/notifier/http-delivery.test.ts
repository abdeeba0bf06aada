/** One delivery attempt against a real local HTTP endpoint: what is recorded for each outcome. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postNotification } from '../../../src/notifier/http-delivery.js';

let server: Server;
let url: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    if (req.url === '/slow') return; // never answers
    res.statusCode = req.url === '/fail' ? 500 : 204;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const attempt = (path: string) =>
  postNotification({
    url: `${url}${path}`,
    secret: null,
    idempotencyKey: 'k1',
    attempt: 1,
    body: '{}',
    timeoutMs: 300,
  });

describe('postNotification', () => {
  it('records success, an HTTP failure, and a timeout in words an operator reads', async () => {
    expect(await attempt('/ok')).toMatchObject({ ok: true, status: 204, error: null });
    expect(await attempt('/fail')).toMatchObject({ ok: false, status: 500, error: 'HTTP 500' });
    const slow = await attempt('/slow');
    expect(slow).toMatchObject({ ok: false, status: null, error: 'timed out after 300 ms' });
    expect(slow.durationMs).toBeGreaterThanOrEqual(250);
  });
});
