/** PostgreSQL failures of provisioning, turned into errors an operator can act on. */
import { IngestError, errorMessage } from '../core/errors.js';
import { missingSetupError, pgCode } from '../adapters/postgres/pg-errors.js';

/** Map driver errors; anything already an IngestError passes through. */
export function provisioningError(err: unknown): unknown {
  if (err instanceof IngestError) return err;
  const code = pgCode(err);
  const setup = missingSetupError(err);
  if (setup) return setup;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === '57P03') {
    return new IngestError(
      'DATABASE_UNAVAILABLE',
      `cannot reach PostgreSQL: ${errorMessage(err)}`,
      {
        cause: err,
      },
    );
  }
  return err;
}
