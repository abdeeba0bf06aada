/**
 * Schema and demo data for `ingest up`, through the same `ingest` commands an
 * operator would type (db migrate, accounts add, gateways add), so `up` keeps
 * to their contracts. Idempotent: what exists already is left as it is.
 */
import { IngestError, errorMessage } from '../core/errors.js';
import { runIngest } from '../loadtest/ingest-process.js';
import type { DemoFleet } from './demo-fleet.js';

export type RunIngest = (
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs?: number,
) => Promise<string>;

const EXISTS = /exist|already|duplicate|conflict/i;

function idsFrom(json: string, fields: string[]): Set<string> {
  const parsed = JSON.parse(json) as unknown;
  const list = Array.isArray(parsed)
    ? parsed
    : ((parsed as { items?: unknown[]; rows?: unknown[] } | null)?.items ??
      (parsed as { rows?: unknown[] } | null)?.rows ??
      []);
  const out = new Set<string>();
  for (const item of list) {
    if (typeof item !== 'object' || item === null) continue;
    for (const f of fields) {
      const v = (item as Record<string, unknown>)[f];
      if (typeof v === 'string') {
        out.add(v);
        break;
      }
    }
  }
  return out;
}

async function listIds(
  run: RunIngest,
  env: NodeJS.ProcessEnv,
  what: string,
  fields: string[],
): Promise<Set<string>> {
  try {
    return idsFrom(await run([what, 'list', '--json'], env), fields);
  } catch (err) {
    // Listing is only a shortcut: adding and treating "already exists" as fine also works.
    void err;
    return new Set();
  }
}

async function addIdempotent(
  run: RunIngest,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<'added' | 'existed'> {
  try {
    await run(args, env);
    return 'added';
  } catch (err) {
    const msg = errorMessage(err);
    if (EXISTS.test(msg)) return 'existed';
    throw new IngestError('INTERNAL', `demo provisioning failed: ${msg}`, { cause: err });
  }
}

export async function migrateSchema(
  env: NodeJS.ProcessEnv,
  run: RunIngest = runIngest,
): Promise<string> {
  try {
    return (await run(['db', 'migrate'], env, 120_000)).trim();
  } catch (err) {
    throw new IngestError(
      'DATABASE_UNAVAILABLE',
      `\`ingest db migrate\` failed: ${errorMessage(err)}`,
      { cause: err },
    );
  }
}

export interface ProvisionResult {
  accountsAdded: number;
  gatewaysAdded: number;
}

export async function provisionDemo(
  fleet: DemoFleet,
  env: NodeJS.ProcessEnv,
  run: RunIngest = runIngest,
): Promise<ProvisionResult> {
  const result: ProvisionResult = { accountsAdded: 0, gatewaysAdded: 0 };
  const accounts = await listIds(run, env, 'accounts', ['id', 'accountId', 'account_id']);
  const missingAccounts = fleet.accounts.filter((a) => !accounts.has(a.id));
  for (let i = 0; i < missingAccounts.length; i += 3) {
    const outcomes = await Promise.all(
      missingAccounts
        .slice(i, i + 3)
        .map((a) => addIdempotent(run, ['accounts', 'add', a.id, '--name', a.name], env)),
    );
    result.accountsAdded += outcomes.filter((o) => o === 'added').length;
  }
  const gateways = await listIds(run, env, 'gateways', ['source_key', 'sourceKey', 'key']);
  const missing = fleet.gateways.filter((g) => !gateways.has(g.sourceKey));
  // A few at a time: each is a node process start (~0.3 s) on a 2-core machine.
  for (let i = 0; i < missing.length; i += 3) {
    const batch = missing.slice(i, i + 3);
    const outcomes = await Promise.all(
      batch.map((g) =>
        addIdempotent(
          run,
          ['gateways', 'add', g.sourceKey, '--account', g.account, '--token', g.token],
          env,
        ),
      ),
    );
    result.gatewaysAdded += outcomes.filter((o) => o === 'added').length;
  }
  return result;
}
