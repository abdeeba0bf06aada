/**
 * A dispatcher pointed at a registry database that is missing, or not migrated,
 * refuses to start with what to do, instead of listening and answering 500 to
 * every call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDatabase, ensureDatabase, dropDatabase } from '../../../src/adapters/postgres/pool.js';
import { silentLogger } from '../../../src/core/logger.js';
import { startDispatcherServer } from '../../../src/dispatcher/server.js';
import { createTestEnv, type TestEnv } from '../../helpers/env.js';

let env: TestEnv;
let blank: string;
beforeAll(async () => {
  env = await createTestEnv();
  blank = withDatabase(env.config.pgUrl, `ingest_test_${env.id}_blank`);
  await ensureDatabase(blank);
});
afterAll(async () => {
  await dropDatabase(blank);
  await env.cleanup();
});

describe('dispatcher start', () => {
  it('refuses a database that does not exist, saying to run ingest db migrate', async () => {
    const missing = withDatabase(env.config.pgUrl, `ingest_test_${env.id}_missing`);
    const start = startDispatcherServer({
      config: env.with({ pgUrl: missing, dispatcherPort: 0 }),
      logger: silentLogger(),
    });
    await expect(start).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(/the database does not exist.*ingest db migrate/),
    });
  });

  it('refuses a database without the registry tables', async () => {
    const start = startDispatcherServer({
      config: env.with({ pgUrl: blank, dispatcherPort: 0 }),
      logger: silentLogger(),
    });
    await expect(start).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(/queue registry tables missing.*ingest db migrate/),
    });
  });
});
