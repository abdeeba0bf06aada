/**
 * One delivery attempt: POST the notification as JSON with its idempotency key
 * and, when the endpoint has a secret, an HMAC-SHA256 signature of the body.
 * Receivers verify with: hex(hmac_sha256(secret, raw body)) == header after "sha256=".
 */
import { createHmac } from 'node:crypto';
import { request } from 'undici';
import { errorMessage } from '../core/errors.js';

export const SIGNATURE_HEADER = 'x-ingest-signature';

export interface DeliveryOutcome {
  ok: boolean;
  status: number | null;
  error: string | null;
  durationMs: number;
}

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export async function postNotification(req: {
  url: string;
  secret: string | null;
  idempotencyKey: string;
  attempt: number;
  body: string;
  timeoutMs: number;
}): Promise<DeliveryOutcome> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'idempotency-key': req.idempotencyKey,
    'x-ingest-attempt': String(req.attempt),
    'user-agent': 'ingest-notify',
  };
  if (req.secret) headers[SIGNATURE_HEADER] = signBody(req.secret, req.body);
  const t0 = performance.now();
  try {
    const res = await request(req.url, {
      method: 'POST',
      headers,
      body: req.body,
      headersTimeout: req.timeoutMs,
      bodyTimeout: req.timeoutMs,
      signal: AbortSignal.timeout(req.timeoutMs),
    });
    // Drain the body so the connection can be reused.
    await res.body.dump();
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    return {
      ok,
      status: res.statusCode,
      error: ok ? null : `HTTP ${res.statusCode}`,
      durationMs: Math.round(performance.now() - t0),
    };
  } catch (err) {
    const name = (err as { name?: unknown }).name;
    const timedOut =
      name === 'TimeoutError' || name === 'HeadersTimeoutError' || name === 'BodyTimeoutError';
    return {
      ok: false,
      status: null,
      error: timedOut ? `timed out after ${req.timeoutMs} ms` : errorMessage(err),
      durationMs: Math.round(performance.now() - t0),
    };
  }
}
