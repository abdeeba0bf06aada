/** The maintainer prunes the consumed-messages ledger by age: it needs that order. */
export const name = '004-ledger-retention';

export const sql = `
CREATE INDEX consumed_messages_stored_at_idx ON consumed_messages (stored_at);
`;
