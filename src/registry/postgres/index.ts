/** The registry's SQL, one operation per file; postgres-registry.ts only runs it. */
import { CLAIM_BATCH } from './claim-batch.sql.js';
import { CLAIM } from './claim.sql.js';
import { RELEASE_AND_CLAIM } from './release-and-claim.sql.js';
import { RELEASE } from './release.sql.js';
import { RENEW } from './renew.sql.js';

export type { Statement } from './statement.js';
export { CLAIM, CLAIM_WITH_MESSAGES, type ClaimRow } from './claim.sql.js';
export { CLAIM_BATCH, CLAIM_BATCH_WITH_MESSAGES, type ClaimBatchRow } from './claim-batch.sql.js';
export { RELEASE_AND_CLAIM, type ReleaseAndClaimRow } from './release-and-claim.sql.js';
export { RELEASE } from './release.sql.js';
export { RENEW, type RenewRow } from './renew.sql.js';
export { PAUSE, UNPAUSE } from './pause.sql.js';
export { MARK_DELETED } from './mark-deleted.sql.js';
export { MARK_HAS_MESSAGES, type MarkHasMessagesRow } from './mark-has-messages.sql.js';
export {
  UPSERT_ACCOUNTS,
  DELETE_MISSING_ACCOUNTS,
  type UpsertAccountsRow,
} from './upsert-from-accounts.sql.js';
export { UPDATE_COUNTS } from './update-counts.sql.js';
export { EXPIRE_LEASES } from './expire-leases.sql.js';
export { EXISTS, LIST, GET, NOW, REMOVE, type EntryRow } from './entries.sql.js';
export { SET_STOPPED, IS_STOPPED } from './dispatcher-control.sql.js';

/** The statements, by name, so the raw-ceiling load test issues exactly the same SQL. */
export const REGISTRY_SQL = {
  claimFifo: CLAIM.fifo.text,
  claimMessagesFirst: CLAIM['messages-first'].text,
  claimBatchFifo: CLAIM_BATCH.fifo.text,
  claimBatchMessagesFirst: CLAIM_BATCH['messages-first'].text,
  releaseAndClaimFifo: RELEASE_AND_CLAIM.fifo.text,
  releaseAndClaimMessagesFirst: RELEASE_AND_CLAIM['messages-first'].text,
  release: RELEASE.text,
  renew: RENEW.text,
} as const;
