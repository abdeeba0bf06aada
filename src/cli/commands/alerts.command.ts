import type { Command } from 'commander';
import type pg from 'pg';
import { addSettings, contextFrom } from '../settings.js';
import { IngestError } from '../../core/errors.js';
import { optionalNumber, wholeArgument, wholeNumber } from '../flags.js';
import { info, printJson, printRows, type Cell } from '../output.js';
import { withPgPool } from '../with-pg.js';
import type * as alertsRepo from '../../alerts/alerts.repo.js';

type AlertsRepo = typeof alertsRepo;

/** Run with a short-lived pool and the alerts repository, both loaded on demand. */
async function withPool<T>(
  cmd: Command,
  fn: (pool: pg.Pool, repo: AlertsRepo) => Promise<T>,
): Promise<T> {
  const { config } = await contextFrom(cmd, 'ingest alerts');
  const repo = await import('../../alerts/alerts.repo.js');
  return withPgPool(config, 'ingest-alerts', (pool) => fn(pool, repo), 'alert ');
}

/** Masked when set; null (JSON) or empty (table) when there is none. */
const maskSecret = (s: string | null): string | null => (s ? '*** (set)' : null);

/** An endpoint as `list` and `update` show it: the secret masked. */
const shownEndpoint = (e: alertsRepo.AlertEndpoint): alertsRepo.AlertEndpoint => ({
  ...e,
  secret: maskSecret(e.secret),
});

const ENDPOINT_COLUMNS: Array<[string, (e: alertsRepo.AlertEndpoint) => Cell]> = [
  ['name', (e) => e.name],
  ['url', (e) => e.url],
  ['secret', (e) => e.secret ?? ''],
  ['created', (e) => e.createdAt],
];

export function registerAlerts(program: Command): void {
  const alerts = program
    .command('alerts')
    .description('threshold alert rules, their HTTP endpoints, and delivery records')
    .addHelpText(
      'after',
      `
Examples:
  ingest alerts endpoints add ops --url https://ops.example.com/hooks/ingest --secret s3cret
  ingest alerts endpoints update ops --secret n3w-s3cret
  ingest alerts rules add --account D0000591 --param 402 --above 150000 --endpoint ops
  ingest alerts rules add --account D0000591 --gateway BC:6A:29:D0:F5:C8 --device 12 --param 404 --below 10 --endpoint ops
  ingest alerts rules list --json
  ingest alerts deliveries --failed`,
    );
  const settings = (c: Command): Command => addSettings(c, ['pgUrl']);

  const rules = alerts
    .command('rules')
    .description('alert rules: account/gateway/device/param thresholds');
  const rulesAdd = settings(
    rules
      .command('add')
      .description(
        'add a rule: every newly stored value beyond a threshold notifies the endpoint once',
      )
      .requiredOption('--account <id>', 'account the rule watches')
      .option('--gateway <source_key>', 'only this gateway')
      .option('--device <did>', 'only this device')
      .requiredOption('--param <p>', 'parameter id')
      .option('--above <x>', 'fire when value > x')
      .option('--below <x>', 'fire when value < x')
      .requiredOption('--endpoint <name>', 'endpoint to notify (ingest alerts endpoints add)')
      .option('--json', 'print the rule as JSON')
      .addHelpText(
        'after',
        '\nExample:\n  ingest alerts rules add --account D0000591 --param 402 --above 150000 --endpoint ops',
      ),
  );
  rulesAdd.action(async (f: Record<string, string | boolean | undefined>) => {
    const rule = await withPool(rulesAdd, (pool, repo) =>
      repo.addRule(pool, {
        account: String(f.account),
        gateway: f.gateway as string | undefined,
        device: f.device as string | undefined,
        param: optionalNumber('param', f.param as string, true)!,
        above: optionalNumber('above', f.above as string | undefined),
        below: optionalNumber('below', f.below as string | undefined),
        endpoint: String(f.endpoint),
      }),
    );
    if (f.json) printJson(rule);
    else info(`rule ${rule.id} added`);
  });
  const rulesList = settings(
    rules
      .command('list')
      .description('list rules')
      .option('--account <id>', 'only this account')
      .option('--json', 'print JSON'),
  );
  rulesList.action(async (f: { account?: string; json?: boolean }) => {
    const list = await withPool(rulesList, (pool, repo) => repo.listRules(pool, f.account));
    printRows(
      list,
      f.json,
      [
        ['id', (r) => r.id],
        ['account', (r) => r.account],
        ['gateway', (r) => r.gateway ?? '*'],
        ['device', (r) => r.device ?? '*'],
        ['param', (r) => r.param],
        ['above', (r) => r.above],
        ['below', (r) => r.below],
        ['endpoint', (r) => r.endpoint],
      ],
      '(no alert rules)',
    );
  });
  const rulesRemove = settings(
    rules.command('remove').argument('<id>', 'rule id').description('remove a rule'),
  );
  rulesRemove.action(async (raw: string) => {
    // Checked before connecting: a typo needs no database to be refused.
    const id = wholeArgument('rule id', raw);
    await withPool(rulesRemove, (pool, repo) => repo.removeRule(pool, id));
    info(`rule ${id} removed`);
  });

  const endpoints = alerts
    .command('endpoints')
    .description('HTTP endpoints notifications are POSTed to');
  const epAdd = settings(
    endpoints
      .command('add')
      .argument('<name>', 'endpoint name (rules refer to it)')
      .description('add an endpoint')
      .requiredOption('--url <url>', 'http(s) URL that receives POSTed JSON')
      .option('--secret <s>', 'HMAC-SHA256 key: requests carry X-Ingest-Signature: sha256=<hex>')
      .addHelpText(
        'after',
        '\nExample:\n  ingest alerts endpoints add ops --url http://127.0.0.1:9000/alerts --secret s3cret',
      ),
  );
  epAdd.action(async (name: string, f: { url: string; secret?: string }) => {
    await withPool(epAdd, (pool, repo) =>
      repo.addEndpoint(pool, { name, url: f.url, secret: f.secret }),
    );
    info(`endpoint ${name} added`);
  });
  const epList = settings(
    endpoints.command('list').description('list endpoints').option('--json', 'print JSON'),
  );
  epList.action(async (f: { json?: boolean }) => {
    const list = (await withPool(epList, (pool, repo) => repo.listEndpoints(pool))).map(
      shownEndpoint,
    );
    printRows(list, f.json, ENDPOINT_COLUMNS, '(no endpoints)');
  });
  const epUpdate = settings(
    endpoints
      .command('update')
      .argument('<name>', 'endpoint name')
      .description(
        'change the URL and/or secret of an endpoint in place (its rules keep it); running notifiers use them within a second',
      )
      .option('--url <url>', 'new http(s) URL')
      .option('--secret <s>', 'new HMAC-SHA256 key')
      .option('--no-secret', 'remove the secret: requests are no longer signed')
      .option('--json', 'print the endpoint as JSON (secret masked)')
      .addHelpText(
        'after',
        '\nExamples:\n  ingest alerts endpoints update ops --secret n3w-s3cret\n  ingest alerts endpoints update ops --url https://ops2.example.com/hook --no-secret',
      ),
  );
  // --secret S and --no-secret share one value (the last one given wins): note each to refuse both.
  const given = { secret: false, noSecret: false };
  epUpdate.on('option:secret', () => (given.secret = true));
  epUpdate.on('option:no-secret', () => (given.noSecret = true));
  epUpdate.action(
    async (name: string, f: { url?: string; secret?: string | false; json?: boolean }) => {
      if (given.secret && given.noSecret)
        throw new IngestError('VALIDATION', 'give --secret or --no-secret, not both');
      if (f.url === undefined && f.secret === undefined)
        throw new IngestError(
          'VALIDATION',
          'nothing to change: give --url, --secret or --no-secret',
        );
      const updated = await withPool(epUpdate, (pool, repo) =>
        repo.updateEndpoint(pool, name, {
          url: f.url,
          secret: f.secret === false ? null : f.secret,
        }),
      );
      if (f.json) printJson(shownEndpoint(updated));
      else {
        info(`endpoint ${name} updated`);
        printRows([shownEndpoint(updated)], false, ENDPOINT_COLUMNS);
      }
    },
  );
  const epRemove = settings(
    endpoints
      .command('remove')
      .argument('<name>', 'endpoint name')
      .description('remove an endpoint (no rule may use it)'),
  );
  epRemove.action(async (name: string) => {
    await withPool(epRemove, (pool, repo) => repo.removeEndpoint(pool, name));
    info(`endpoint ${name} removed`);
  });

  const deliveries = settings(
    alerts
      .command('deliveries')
      .description('delivery attempts of notifications, newest first')
      .option('--failed', 'only failed attempts and dead-lettered notifications')
      .option('--key <idempotency-key>', 'only this notification')
      .option('--limit <n>', 'rows', '50')
      .option('--json', 'print JSON')
      .addHelpText(
        'after',
        '\nExamples:\n  ingest alerts deliveries\n  ingest alerts deliveries --failed --json',
      ),
  );
  deliveries.action(
    async (f: { failed?: boolean; key?: string; limit: string; json?: boolean }) => {
      const limit = wholeNumber('limit', f.limit);
      const list = await withPool(deliveries, (pool, repo) =>
        repo.listDeliveries(pool, {
          failed: f.failed === true,
          limit,
          ...(f.key ? { key: f.key } : {}),
        }),
      );
      printRows(
        list,
        f.json,
        [
          ['at', (d) => d.at],
          ['key', (d) => d.idempotencyKey.slice(0, 12)],
          ['endpoint', (d) => d.endpoint],
          ['attempt', (d) => d.attempt],
          ['outcome', (d) => d.outcome],
          ['http', (d) => d.httpStatus],
          ['ms', (d) => d.durationMs],
          ['error', (d) => d.error],
        ],
        '(no deliveries)',
      );
    },
  );
}
