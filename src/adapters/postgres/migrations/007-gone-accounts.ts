/**
 * An account that goes (removed, deactivated, or its id changed) leaves its id behind
 * for the maintainer. It learns of queues from the accounts it registers; an account
 * added (its queue declared at once) and gone before the maintainer's next pass was
 * never registered, so its queue, and whatever gateways sent meanwhile, used to stay in
 * RabbitMQ for good. A trigger rather than the CLI records it, so a change made with
 * plain SQL is covered too. The maintainer adopts such a queue (drains it, then removes
 * it) and forgets the id.
 */
export const name = '007-gone-accounts';

export const sql = `
CREATE TABLE gone_accounts (
  id text PRIMARY KEY,
  gone_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION ingest_remember_gone_account() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO gone_accounts (id) VALUES (OLD.id)
      ON CONFLICT (id) DO UPDATE SET gone_at = now();
  ELSIF (OLD.active AND NOT NEW.active) OR OLD.id <> NEW.id THEN
    INSERT INTO gone_accounts (id) VALUES (OLD.id)
      ON CONFLICT (id) DO UPDATE SET gone_at = now();
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER accounts_remember_gone AFTER DELETE OR UPDATE ON accounts
  FOR EACH ROW EXECUTE FUNCTION ingest_remember_gone_account();
`;
