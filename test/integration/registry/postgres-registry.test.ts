import { describe } from 'vitest';
import { createPostgresRegistry } from '../../../src/registry/postgres-registry.js';
import { createTestEnv } from '../../helpers/env.js';
import { registryContract } from './contract.js';

describe('PostgreSQL queue registry contract', () => {
  registryContract(async () => {
    const env = await createTestEnv();
    const a = createPostgresRegistry({ url: env.config.pgUrl, poolSize: 8 });
    const b = createPostgresRegistry({ url: env.config.pgUrl, poolSize: 8 });
    return {
      a,
      b,
      async cleanup() {
        await a.close();
        await b.close();
        await env.cleanup();
      },
    };
  });
});
