import type { Command } from 'commander';
import { errorMessage } from '../../core/errors.js';
import type { GatewayStats } from '../../adapters/redis/gateway-stats.js';
import type { Gateway } from '../../provisioning/provisioning.js';
import { addSettings, contextFrom } from '../settings.js';
import { durationMs } from '../flags.js';
import { info, printJson, printRows, printTable } from '../output.js';
import { withProvisioning } from '../with-pg.js';
import { registerRemove, registerToggles } from '../toggle-commands.js';

const GATEWAY_COLUMNS: Array<[string, (g: Gateway) => string | number]> = [
  ['source_key', (g) => g.sourceKey],
  ['account', (g) => g.accountId],
  ['enabled', (g) => (g.enabled ? 'yes' : 'NO')],
  ['account active', (g) => (g.accountActive ? 'yes' : 'NO')],
  ['token', (g) => g.token],
  ['old token until', (g) => g.oldTokenExpiresAt ?? ''],
  ['created', (g) => g.createdAt],
];

export function registerGateways(program: Command): void {
  const gateways = program
    .command('gateways')
    .description(
      'provision gateways (PostgreSQL), rotate their tokens, show their traffic (Redis stats)',
    )
    .addHelpText(
      'after',
      `
Examples:
  ingest gateways add BC:6A:29:D0:F5:C8 --account D0000591
  ingest gateways list --json
  ingest gateways rotate-token BC:6A:29:D0:F5:C8 --grace 24h
  ingest gateways show BC:6A:29:D0:F5:C8

Changes reach the frontends through the Redis cache (ingest sync-cache) and
then within the frontends' token-cache TTL (--token-cache-ttl, default 5s).`,
    );

  const add = gateways
    .command('add <source_key>')
    .description('register a gateway of an account and print its token (shown only this once)')
    .requiredOption('--account <id>', 'the account the gateway belongs to')
    .option(
      '--token <token>',
      'use this token (16-256 printable characters) instead of a generated one',
    )
    .option('--json', 'print {sourceKey, account, token} as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  ingest gateways add BC:6A:29:D0:F5:C8 --account D0000591\n  ingest gateways add 00:11:22:33:44:55 --account D0000591 --token "$TOKEN"',
    );
  addSettings(add, ['pgUrl']).action(
    async (key: string, opts: { account: string; token?: string; json?: boolean }) => {
      const { config } = await contextFrom(add);
      const out = await withProvisioning(config, (p) =>
        p.addGateway({
          sourceKey: key,
          accountId: opts.account,
          ...(opts.token ? { token: opts.token } : {}),
        }),
      );
      if (opts.json) return printJson({ sourceKey: key, account: opts.account, token: out.token });
      info(`gateway ${key} registered for account ${opts.account}`);
      info(`token: ${out.token}`);
      info('(store it now: only its hash is kept)');
    },
  );

  const list = gateways
    .command('list')
    .description('list gateways with account, state and masked token')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExample:\n  ingest gateways list --json');
  addSettings(list, ['pgUrl']).action(async (opts: { json?: boolean }) => {
    const { config } = await contextFrom(list);
    const rows = await withProvisioning(config, (p) => p.listGateways());
    printRows(
      rows,
      opts.json,
      GATEWAY_COLUMNS,
      '(no gateways: ingest gateways add <source_key> --account <id>)',
    );
  });

  registerToggles(gateways, {
    arg: '<source_key>',
    example: 'BC:6A:29:D0:F5:C8',
    jsonHelp: 'print the gateway as JSON',
    describe: (enabled) =>
      enabled
        ? 'accept a gateway again'
        : 'refuse a gateway (403) from the next cache sync + token-cache TTL on',
    set: (p, key, enabled) => p.setGatewayEnabled(key, enabled),
    done: (g, enabled) => `gateway ${g.sourceKey} ${enabled ? 'enabled' : 'disabled'}`,
  });

  registerRemove(gateways, {
    arg: '<source_key>',
    example: 'BC:6A:29:D0:F5:C8',
    description:
      'delete a gateway (a mistake, or one gone for good): refused while alert rules name it; its stored readings stay; sync-cache drops it from Redis at once, the frontends within their token-cache TTL',
    remove: (p, key) => p.removeGateway(key),
    done: (key) => `gateway ${key} removed`,
  });

  const rotate = gateways
    .command('rotate-token <source_key>')
    .description('give a gateway a new token; the old one keeps working for a grace period')
    .option('--grace <duration>', 'how long the old token stays valid (0: revoke at once)', '24h')
    .option('--json', 'print {sourceKey, token, oldTokenValidUntil} as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  ingest gateways rotate-token BC:6A:29:D0:F5:C8\n  ingest gateways rotate-token BC:6A:29:D0:F5:C8 --grace 0   # compromised token',
    );
  addSettings(rotate, ['pgUrl']).action(
    async (key: string, opts: { grace: string; json?: boolean }) => {
      const { config } = await contextFrom(rotate);
      const graceMs = durationMs('grace', opts.grace);
      const out = await withProvisioning(config, (p) => p.rotateToken(key, graceMs));
      if (opts.json)
        return printJson({
          sourceKey: key,
          token: out.token,
          oldTokenValidUntil: out.gateway.oldTokenExpiresAt,
        });
      info(`new token for ${key}: ${out.token}`);
      info(
        out.gateway.oldTokenExpiresAt
          ? `the previous token stays valid until ${out.gateway.oldTokenExpiresAt}`
          : 'the previous token is revoked',
      );
    },
  );

  const show = gateways
    .command('show <source_key>')
    .description(
      'one gateway: registration, account, masked token, readings per hour/day/week/month and its last 10 messages',
    )
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExample:\n  ingest gateways show BC:6A:29:D0:F5:C8');
  addSettings(show, ['pgUrl', 'redisUrl', 'redisPrefix']).action(
    async (key: string, opts: { json?: boolean }) => {
      const { config, logger } = await contextFrom(show);
      const gw = await withProvisioning(config, (p) => p.getGateway(key));
      const { createRedis, disconnectRedis, redisReady } =
        await import('../../adapters/redis/client.js');
      const { createGatewayStats, PERIODS } = await import('../../adapters/redis/gateway-stats.js');
      const redis = createRedis(config.redisUrl, {
        logger: logger.child({}, { level: 'error' }),
      });
      let stats: GatewayStats | undefined;
      let statsError: string | undefined;
      try {
        // Redis away: say so within seconds (the gateway itself is in PostgreSQL).
        await redisReady(redis, 3_000);
        stats = await createGatewayStats(redis, config.redisPrefix).read(key);
      } catch (err) {
        statsError = errorMessage(err);
      } finally {
        await disconnectRedis(redis);
      }
      if (opts.json)
        return printJson({
          gateway: gw,
          stats: stats ?? null,
          ...(statsError ? { statsError } : {}),
        });
      printTable(
        ['field', 'value'],
        [
          ['source_key', gw.sourceKey],
          ['registered', gw.createdAt],
          ['account', `${gw.accountId}${gw.accountActive ? '' : ' (deactivated)'}`],
          ['enabled', gw.enabled ? 'yes' : 'NO'],
          ['token', gw.token],
          ['old token', gw.oldToken ? `${gw.oldToken} until ${gw.oldTokenExpiresAt}` : '-'],
        ],
      );
      if (!stats) {
        process.stderr.write(`ingest: warning: stats unavailable (Redis: ${statsError})\n`);
        return;
      }
      info('\nreadings');
      printTable(
        ['period', 'now', 'last', 'the one before'],
        PERIODS.map((p) => [
          p,
          stats.readings[p].now,
          stats.readings[p].last,
          stats.readings[p].before,
        ]),
      );
      info('\nlast messages');
      printRows(
        stats.lastMessages,
        false,
        [
          ['received', (m) => m.at],
          ['readings', (m) => m.readings],
          ['bytes', (m) => m.bytes],
          ['message id', (m) => m.messageId],
        ],
        '(no messages yet)',
      );
    },
  );
}
