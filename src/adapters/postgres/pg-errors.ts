/**
 * PostgreSQL driver errors, read in one place: the SQLSTATE and constraint of a
 * failure, and the setup errors. A database that does not exist, or lacks the
 * tables, is a setup step not yet taken (`ingest db migrate`), not an outage: one
 * error for every command, with what to run (the CLI exits 1 for it, as for any
 * command that cannot run as asked).
 */
import { IngestError, errorMessage } from '../../core/errors.js';

/** The SQLSTATE (or Node error code) of a driver error. */
export function pgCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err
    ? String((err as { code: unknown }).code)
    : undefined;
}

/** The constraint a violation names, if any. */
export function pgConstraint(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'constraint' in err
    ? String((err as { constraint: unknown }).constraint)
    : undefined;
}

export function isUniqueViolation(err: unknown): boolean {
  return pgCode(err) === '23505';
}

export function isForeignKeyViolation(err: unknown): boolean {
  return pgCode(err) === '23503';
}

/** The setup error for a PostgreSQL failure, or undefined when it is something else. */
export function missingSetupError(err: unknown, tables = ''): IngestError | undefined {
  const code = pgCode(err);
  if (code === '3D000')
    return new IngestError(
      'CONFIG_INVALID',
      `the database does not exist (${errorMessage(err)}): run \`ingest db migrate\` (with the same settings) to create it`,
      { cause: err },
    );
  if (code === '42P01')
    return new IngestError(
      'CONFIG_INVALID',
      `${tables}tables missing in this database: run \`ingest db migrate\` (with the same settings)`,
      { cause: err },
    );
  return undefined;
}
