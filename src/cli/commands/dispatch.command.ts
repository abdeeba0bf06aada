import type { Command } from 'commander';
import { addSettings, contextFrom } from '../settings.js';

export function registerDispatch(program: Command): void {
  const cmd = program
    .command('dispatch')
    .description(
      'run the dispatcher: hands account queues to consumers over HTTP, one consumer per queue at a time, by a delivery strategy (stateless; run as many as you like on one registry)',
    )
    .addHelpText(
      'after',
      `
Examples:
  ingest dispatch
  ingest dispatch --port 8081 --strategy fifo
  INGEST_ADMIN_TOKEN=s3cret ingest dispatch --host 0.0.0.0
  ingest dispatch --registry-url mongodb://127.0.0.1:27017/ingest

HTTP API (JSON):
  POST /queue/next          {"consumer", "release"?, "lease"?, "empty"?, "wait"?} -> 200 {"queue","lease","expiresAt"} | 204 | 503 stopped
                            ("wait": ms, at most 30000: under messages-first, hold the request until
                            a queue with messages can be handed out instead of a known-empty one)
  POST /queue/:id/release   {"lease", "empty"?}  -> 200 | 404 | 409 lease not held
  POST /queue/:id/renew     {"lease"}            -> 200 {"expiresAt"} | 409 (lost, paused, deleted)
  POST /queue/:id/pause, /queue/:id/unpause, /stop, /start   (admin)
  GET  /queue/status, /health, /metrics

Strategies: fifo (the idle queue served longest ago first), messages-first
(queues with messages first; known-empty last). While the maintainer's heartbeat
is older than --heartbeat-stale, messages-first falls back to fifo (shown in
GET /queue/status and logged). Admin endpoints need INGEST_ADMIN_TOKEN as a
Bearer token when set, else answer loopback callers only. Needs the registry
schema: ingest db migrate.`,
    );
  addSettings(cmd, [
    'dispatcherPort',
    'host',
    'strategy',
    'leaseTimeout',
    'heartbeatStale',
    'registryUrl',
    'pgUrl',
    'redisUrl',
    'redisPrefix',
    'adminToken',
  ]).action(async () => {
    const { config, logger, lifecycle } = await contextFrom(cmd, 'ingest dispatch');
    const { startDispatcherServer } = await import('../../dispatcher/server.js');
    const server = await startDispatcherServer({ config, logger });
    lifecycle.defer('dispatcher', () => server.close());
    // Installed only once there is a server to drain: a signal during start-up
    // takes the default action and ends the process, which has handed out nothing.
    lifecycle.handleSignals();
    await lifecycle.closed;
    await lifecycle.close();
  });
}
