/** MongoDB connections (the alternative queue-registry backend, selected by a mongodb:// URL). */
import { MongoClient, type Db } from 'mongodb';
import { IngestError, errorMessage } from '../../core/errors.js';

export interface MongoHandle {
  client: MongoClient;
  db: Db;
  close(): Promise<void>;
}

export function isMongoUrl(url: string): boolean {
  return /^mongodb(\+srv)?:\/\//i.test(url);
}

/** Connect; the database is the one named in the URL path (default "ingest"). */
export async function connectMongo(
  url: string,
  opts: { poolSize?: number; appName?: string } = {},
): Promise<MongoHandle> {
  const client = new MongoClient(url, {
    maxPoolSize: opts.poolSize ?? 20,
    appName: opts.appName ?? 'ingest',
    serverSelectionTimeoutMS: 5_000,
  });
  try {
    await client.connect();
  } catch (err) {
    await client.close().catch(() => undefined);
    throw new IngestError(
      'DATABASE_UNAVAILABLE',
      `cannot connect to MongoDB: ${errorMessage(err)}`,
      {
        cause: err,
      },
    );
  }
  const db = client.db(); // the URL's database, or "test" when absent: name it in the URL
  let closing: Promise<void> | undefined;
  return {
    client,
    db,
    close() {
      closing ??= client.close().catch(() => undefined);
      return closing;
    },
  };
}
