/**
 * One RabbitMQ connection per process, reconnected with backoff. Topology and
 * consumers are declared in setup functions that are replayed after every
 * reconnect (the amqp-connection-manager habit). While the broker is away,
 * callers fail fast with BROKER_UNAVAILABLE instead of hanging.
 */
import { EventEmitter } from 'node:events';
import amqp, { type Channel, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { IngestError, errorMessage } from '../../core/errors.js';
import { backoffDelay } from '../../core/lifecycle.js';
import type { Logger } from '../../core/logger.js';

export type Setup = (model: ChannelModel) => Promise<void>;

export interface AmqpConnection extends EventEmitter {
  readonly connected: boolean;
  /** Resolves once connected (or rejects after `timeoutMs`). */
  ready(timeoutMs?: number): Promise<ChannelModel>;
  /** The live connection, or BROKER_UNAVAILABLE. */
  model(): ChannelModel;
  /** Run now if connected, and after every reconnect. Returns a remover. */
  addSetup(setup: Setup): Promise<() => void>;
  createChannel(): Promise<Channel>;
  createConfirmChannel(): Promise<ConfirmChannel>;
  close(): Promise<void>;
}

export interface AmqpConnectionOptions {
  url: string;
  logger: Logger;
  name?: string;
  heartbeatSeconds?: number;
}

export function createAmqpConnection(opts: AmqpConnectionOptions): AmqpConnection {
  const events = new EventEmitter();
  const setups = new Set<Setup>();
  let current: ChannelModel | undefined;
  let closed = false;
  let attempt = 0;
  let timer: NodeJS.Timeout | undefined;
  let waiters: Array<(m: ChannelModel) => void> = [];
  /** Why the last attempt failed, said when a caller gives up waiting. */
  let lastError: string | undefined;
  const log = opts.logger.child({ component: 'amqp' });

  async function connectOnce(): Promise<void> {
    let model: ChannelModel | undefined;
    try {
      model = await amqp.connect(withHeartbeat(opts.url, opts.heartbeatSeconds ?? 10), {
        clientProperties: { connection_name: opts.name ?? 'ingest' },
        timeout: 5_000,
        // amqplib leaves Nagle's algorithm on unless asked: a small frame written after a
        // fire-and-forget one (basic.cancel, queue.declare) then waits for the broker's
        // delayed TCP ACK, ~40 ms each (measured on the consumer's lease cancels).
        noDelay: true,
      });
      if (closed) {
        await model.close().catch(() => undefined);
        return;
      }
      model.on('error', (err: Error) => log.warn({ err: errorMessage(err) }, 'connection error'));
      model.on('blocked', (reason: string) =>
        log.warn({ reason }, 'broker blocked the connection'),
      );
      model.on('close', () => {
        if (current === model) current = undefined;
        if (closed) return;
        log.warn('connection lost; reconnecting');
        events.emit('disconnect');
        schedule();
      });
      for (const setup of setups) await setup(model);
      current = model;
      lastError = undefined;
      if (attempt > 0) log.info({ attempts: attempt }, 'reconnected to RabbitMQ');
      attempt = 0;
      events.emit('connect', model);
      const ws = waiters;
      waiters = [];
      for (const w of ws) w(model);
    } catch (err) {
      if (model) await model.close().catch(() => undefined);
      if (closed) return;
      lastError = describeConnectError(err);
      if (attempt === 0 || attempt % 10 === 0) {
        log.warn({ err: errorMessage(err), attempt }, 'cannot connect to RabbitMQ; retrying');
      }
      schedule();
    }
  }

  function schedule(): void {
    if (closed || timer) return;
    attempt += 1;
    timer = setTimeout(
      () => {
        timer = undefined;
        void connectOnce();
      },
      backoffDelay(attempt, 200, 5_000),
    );
  }

  void connectOnce();

  const unavailable = (): IngestError =>
    new IngestError('BROKER_UNAVAILABLE', 'RabbitMQ is not connected', { retryAfter: 2 });

  // Object.assign would copy a getter's value once; define it as a live property.
  Object.defineProperty(events, 'connected', { get: () => current !== undefined });
  const conn = Object.assign(events, {
    ready(timeoutMs = 10_000): Promise<ChannelModel> {
      if (current) return Promise.resolve(current);
      if (closed) return Promise.reject(unavailable());
      return new Promise<ChannelModel>((resolve, reject) => {
        const t = setTimeout(() => {
          waiters = waiters.filter((w) => w !== done);
          reject(
            new IngestError(
              'BROKER_UNAVAILABLE',
              `RabbitMQ not reachable at ${redactUrl(opts.url)}${lastError ? ` (${lastError})` : ''}`,
              {
                retryAfter: 2,
              },
            ),
          );
        }, timeoutMs);
        const done = (m: ChannelModel): void => {
          clearTimeout(t);
          resolve(m);
        };
        waiters.push(done);
      });
    },
    model(): ChannelModel {
      if (!current) throw unavailable();
      return current;
    },
    async addSetup(setup: Setup) {
      setups.add(setup);
      if (current) await setup(current);
      return () => setups.delete(setup);
    },
    async createChannel() {
      const ch = await conn.model().createChannel();
      ch.on('error', (err: Error) => log.debug({ err: errorMessage(err) }, 'channel error'));
      return ch;
    },
    async createConfirmChannel() {
      const ch = await conn.model().createConfirmChannel();
      ch.on('error', (err: Error) => log.debug({ err: errorMessage(err) }, 'channel error'));
      return ch;
    },
    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      const m = current;
      current = undefined;
      if (m) await m.close().catch(() => undefined);
    },
  });
  // 'connected' is defined above as a live getter, which the type system cannot see.
  return conn as unknown as AmqpConnection;
}

/** The connect error, with what to do when the broker refused the login. */
export function describeConnectError(err: unknown): string {
  const message = errorMessage(err);
  if (/ACCESS[-_]REFUSED/.test(message))
    return `the broker refused the login: check the user and password in INGEST_AMQP_URL / --amqp-url (${message})`;
  return message;
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid url)';
  }
}

/** Heartbeats detect a dead broker within seconds; keep one given in the URL. */
function withHeartbeat(url: string, seconds: number): string {
  try {
    const u = new URL(url);
    if (!u.searchParams.has('heartbeat')) u.searchParams.set('heartbeat', String(seconds));
    return u.toString();
  } catch {
    return url;
  }
}
