/** Pick the registry backend from config.registryUrl: mongodb:// selects MongoDB, else PostgreSQL. */
import { isMongoUrl } from '../adapters/mongodb/client.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import { createMongoRegistry } from './mongodb-registry.js';
import { createPostgresRegistry } from './postgres-registry.js';
import type { QueueRegistry } from './registry.js';

export * from './registry.js';
export { createPostgresRegistry, REGISTRY_SQL } from './postgres-registry.js';
export { createMongoRegistry } from './mongodb-registry.js';

export async function createRegistry(deps: {
  config: Pick<Config, 'registryUrl'>;
  logger: Logger;
  poolSize?: number;
}): Promise<QueueRegistry> {
  const url = deps.config.registryUrl ?? '';
  const backend = isMongoUrl(url) ? 'mongodb' : 'postgres';
  deps.logger.debug({ backend }, 'queue registry');
  if (backend === 'mongodb') return createMongoRegistry({ url, poolSize: deps.poolSize });
  return createPostgresRegistry({ url, poolSize: deps.poolSize });
}
