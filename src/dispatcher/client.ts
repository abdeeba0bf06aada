/**
 * The dispatcher's HTTP API as a typed client (DESIGN §4). Keep-alive
 * `node:http` Agent, not global fetch: measured ~2,600 vs ~450 next+release
 * cycles/s on these 2 cores. HTTP failures become IngestErrors with stable codes.
 */
import http from 'node:http';
import { ERRORS, IngestError, errorMessage, type ErrorCode } from '../core/errors.js';

export type Strategy = 'fifo' | 'messages-first';
/** What an operator sees: deleted > paused > busy > empty > idle. */
export type DisplayState = 'deleted' | 'paused' | 'busy' | 'empty' | 'idle';

export interface NextGrant {
  queue: string;
  lease: string;
  expiresAt: string;
  /** Present when the request gave a queue back: false when that lease had been lost. */
  released?: boolean;
}

export interface QueueStatusEntry {
  id: string;
  /** Derived state (deleted > paused > busy > empty > idle). */
  state: DisplayState;
  /** Stored state: idle, busy or paused. */
  registryState: 'idle' | 'busy' | 'paused';
  deleted: boolean;
  messageCount: number;
  readyCount: number;
  unackedCount: number;
  hasMessages: boolean;
  consumer: string | null;
  leasedAt: string | null;
  leaseExpiresAt: string | null;
  lastDeliveredAt: string | null;
  countedAt: string | null;
  deletedAt: string | null;
  updatedAt: string;
}

export interface DispatcherStatus {
  state: 'running' | 'stopped';
  /** The configured strategy. */
  strategy: Strategy;
  /** The strategy in use now (fifo while the maintainer heartbeat is stale). */
  effectiveStrategy: Strategy;
  fallback: boolean;
  maintainer: {
    alive: boolean;
    lastHeartbeat: string | null;
    ageMs: number | null;
    staleAfterMs: number;
  };
  leaseTimeoutMs: number;
  /** Consumers parked in a long-poll on this replica (absent from older dispatchers). */
  waitingConsumers?: number;
}

export interface QueueStatusResponse {
  dispatcher: DispatcherStatus;
  queues: QueueStatusEntry[];
  totals: { queues: number; busy: number; paused: number; deleted: number; messages: number };
  generatedAt: string;
}

export interface DispatcherClient {
  readonly url: string;
  /**
   * null when there is nothing to hand out (204). `wait` (ms): long-poll for a queue with
   * messages (the request's timeout grows by it); `signal` abandons the request.
   */
  next(
    req: {
      consumer: string;
      release?: string;
      lease?: string;
      empty?: boolean;
      wait?: number;
    },
    opts?: { signal?: AbortSignal },
  ): Promise<NextGrant | null>;
  release(queue: string, req: { lease: string; empty?: boolean }): Promise<void>;
  renew(queue: string, lease: string): Promise<{ expiresAt: string }>;
  pause(queue: string): Promise<void>;
  unpause(queue: string): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  status(): Promise<QueueStatusResponse>;
  health(): Promise<{ ok: boolean }>;
  close(): void;
}

export interface DispatcherClientOptions {
  url: string;
  adminToken?: string;
  timeoutMs?: number;
  /** Sockets kept open to the dispatcher (default 64). */
  maxSockets?: number;
}

interface RawResponse {
  status: number;
  body: string;
}

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'VALIDATION',
  401: 'ADMIN_REQUIRED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'LEASE_NOT_HELD',
  503: 'DISPATCHER_STOPPED',
};

function parseJson(body: string): unknown {
  if (!body) return undefined;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

export function createDispatcherClient(opts: DispatcherClientOptions): DispatcherClient {
  const base = new URL(opts.url);
  if (base.protocol !== 'http:')
    throw new IngestError('CONFIG_INVALID', `dispatcher URL must be http://, got ${opts.url}`);
  const prefix = base.pathname.replace(/\/$/, '');
  const shownUrl = `${base.protocol}//${base.host}${prefix}`;
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 64 });
  let closed = false;

  function send(
    method: string,
    path: string,
    body?: unknown,
    admin = false,
    extra: { waitMs?: number; signal?: AbortSignal | undefined } = {},
  ): Promise<RawResponse> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    if (admin && opts.adminToken) headers.authorization = `Bearer ${opts.adminToken}`;
    const { signal } = extra;
    return new Promise<RawResponse>((resolve, reject) => {
      const req = http.request(
        {
          agent,
          host: base.hostname,
          port: base.port || 80,
          method,
          path: `${prefix}${path}`,
          headers,
        },
        (res) => {
          // The answer is coming (a grant, perhaps): abandoning it now would lose it.
          signal?.removeEventListener('abort', onAbort);
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', (err: Error) => reject(unreachable(err)));
        },
      );
      const limit = timeoutMs + (extra.waitMs ?? 0);
      req.setTimeout(limit, () => {
        req.destroy(new Error(`no answer within ${limit} ms`));
      });
      const onAbort = (): void => {
        req.destroy(new Error('request abandoned'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('close', () => signal?.removeEventListener('abort', onAbort));
      req.on('error', (err: Error) => reject(unreachable(err)));
      if (signal?.aborted) onAbort();
      req.end(payload);
    });
  }

  function unreachable(err: unknown): IngestError {
    return new IngestError(
      'DISPATCHER_UNREACHABLE',
      `dispatcher unreachable at ${shownUrl}: ${errorMessage(err)} (start it with \`ingest dispatch\`, or set INGEST_DISPATCHER_URL / --dispatcher)`,
      { cause: err, retryAfter: 1 },
    );
  }

  function failure(res: RawResponse, what: string): IngestError {
    const parsed = parseJson(res.body) as { error?: string; message?: string } | undefined;
    // The server's own code when it is ours and agrees with the status (a 503 may also be
    // DATABASE_UNAVAILABLE), else the code the status stands for.
    const own = parsed?.error as ErrorCode | undefined;
    const code: ErrorCode =
      own !== undefined && own in ERRORS && ERRORS[own].status === res.status
        ? own
        : (STATUS_CODES[res.status] ?? 'INTERNAL');
    const message = parsed?.message ?? `${what}: HTTP ${res.status}`;
    return new IngestError(code, message, {
      details: { status: res.status, ...(parsed?.error ? { serverCode: parsed.error } : {}) },
      ...(res.status === 503 ? { retryAfter: 1 } : {}),
    });
  }

  async function call(
    method: string,
    path: string,
    what: string,
    body?: unknown,
    admin = false,
    extra?: { waitMs?: number; signal?: AbortSignal | undefined },
  ): Promise<RawResponse> {
    if (closed) throw new IngestError('DISPATCHER_UNREACHABLE', 'dispatcher client closed');
    const res = await send(method, path, body, admin, extra);
    if (res.status >= 400) throw failure(res, what);
    return res;
  }

  const q = (id: string): string => `/queue/${encodeURIComponent(id)}`;

  return {
    url: shownUrl,
    async next(req, opts = {}) {
      const res = await call('POST', '/queue/next', 'next queue', req, false, {
        waitMs: req.wait ?? 0,
        signal: opts.signal,
      });
      if (res.status === 204) return null;
      return parseJson(res.body) as NextGrant;
    },
    async release(queue, req) {
      await call('POST', `${q(queue)}/release`, `release ${queue}`, req);
    },
    async renew(queue, lease) {
      const res = await call('POST', `${q(queue)}/renew`, `renew ${queue}`, { lease });
      return parseJson(res.body) as { expiresAt: string };
    },
    async pause(queue) {
      await call('POST', `${q(queue)}/pause`, `pause ${queue}`, {}, true);
    },
    async unpause(queue) {
      await call('POST', `${q(queue)}/unpause`, `unpause ${queue}`, {}, true);
    },
    async stop() {
      await call('POST', '/stop', 'stop dispatcher', {}, true);
    },
    async start() {
      await call('POST', '/start', 'start dispatcher', {}, true);
    },
    async status() {
      const res = await call('GET', '/queue/status', 'queue status');
      return parseJson(res.body) as QueueStatusResponse;
    },
    async health() {
      const res = await call('GET', '/health', 'health');
      return (parseJson(res.body) as { ok: boolean } | undefined) ?? { ok: true };
    },
    close() {
      if (closed) return;
      closed = true;
      agent.destroy();
    },
  };
}
