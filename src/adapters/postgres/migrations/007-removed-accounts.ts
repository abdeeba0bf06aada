/**
 * A removed account leaves its id behind for the maintainer. It learns of queues
 * from the accounts it registers; an account added (its queue declared at once)
 * and removed before the maintainer's next pass was never registered, so its
 * queue used to stay in RabbitMQ for good. A trigger rather than the CLI records
 * it, so an account deleted with plain SQL is covered too. The maintainer adopts
 * such a queue (drains it, then removes it) and forgets the id.
 */
export const name = '007-removed-accounts';

export const sql = `
CREATE TABLE removed_accounts (
  id text PRIMARY KEY,
  removed_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION ingest_remember_removed_account() RETURNS trigger AS $$
BEGIN
  INSERT INTO removed_accounts (id) VALUES (OLD.id)
    ON CONFLICT (id) DO UPDATE SET removed_at = now();
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER accounts_remember_removed AFTER DELETE ON accounts
  FOR EACH ROW EXECUTE FUNCTION ingest_remember_removed_account();
`;
