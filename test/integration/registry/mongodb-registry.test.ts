import { randomBytes } from 'node:crypto';
import { describe } from 'vitest';
import { MongoClient } from 'mongodb';
import { createMongoRegistry } from '../../../src/registry/mongodb-registry.js';
import { registryContract } from './contract.js';

const MONGO = process.env.INGEST_TEST_MONGO_URL;

describe.skipIf(!MONGO)(
  'MongoDB queue registry contract (skipped unless INGEST_TEST_MONGO_URL is set: no MongoDB server on this machine)',
  () => {
    registryContract(async () => {
      const u = new URL(MONGO!);
      u.pathname = `/ingest_test_${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
      const url = u.toString();
      const a = await createMongoRegistry({ url, poolSize: 8 });
      const b = await createMongoRegistry({ url, poolSize: 8 });
      return {
        a,
        b,
        async cleanup() {
          await a.close();
          await b.close();
          const admin = new MongoClient(url);
          await admin.connect();
          await admin.db().dropDatabase();
          await admin.close();
        },
      };
    });
  },
);
