/**
 * The maintainer prunes the consumed-messages ledger by age: it needs that order.
 * Built CONCURRENTLY (outside a transaction): on a site the ledger has grown for
 * a while, and a plain CREATE INDEX would block the consumers' inserts meanwhile.
 */
export const name = '004-ledger-retention';

export const transaction = false;

export const sql = `
CREATE INDEX CONCURRENTLY IF NOT EXISTS consumed_messages_stored_at_idx
  ON consumed_messages (stored_at)
`;
