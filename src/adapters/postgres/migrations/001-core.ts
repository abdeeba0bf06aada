/** Accounts, gateways and readings (DESIGN §5), with change notifications for the cache sync. */
export const name = '001-core';

export const sql = `
CREATE TABLE accounts (
  id          text PRIMARY KEY,
  name        text NOT NULL DEFAULT '',
  active      boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE gateways (
  source_key           text PRIMARY KEY,
  account_id           text NOT NULL REFERENCES accounts(id) ON UPDATE CASCADE,
  -- Tokens are kept as SHA-256 hashes plus a short hint for masked display.
  token_hash           text NOT NULL,
  token_hint           text NOT NULL,
  -- The previous token stays valid after a rotation until it expires.
  old_token_hash       text,
  old_token_hint       text,
  old_token_expires_at timestamptz,
  enabled              boolean NOT NULL DEFAULT true,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX gateways_account_idx ON gateways (account_id);

CREATE TABLE readings (
  source_key  text NOT NULL,
  device      text NOT NULL,
  param       integer NOT NULL,
  ts          timestamptz NOT NULL,
  value       double precision NOT NULL,
  sqn         integer,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source_key, device, param, ts)
);

-- Tell the cache sync what changed, so it need not wait for its interval.
CREATE FUNCTION ingest_notify_gateway_change() RETURNS trigger AS $$
BEGIN
  IF TG_TABLE_NAME = 'accounts' THEN
    PERFORM pg_notify('ingest_gateways', json_build_object('account', COALESCE(NEW.id, OLD.id))::text);
  ELSE
    PERFORM pg_notify('ingest_gateways', json_build_object('source_key', COALESCE(NEW.source_key, OLD.source_key))::text);
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER gateways_notify AFTER INSERT OR UPDATE OR DELETE ON gateways
  FOR EACH ROW EXECUTE FUNCTION ingest_notify_gateway_change();
CREATE TRIGGER accounts_notify AFTER INSERT OR UPDATE OR DELETE ON accounts
  FOR EACH ROW EXECUTE FUNCTION ingest_notify_gateway_change();
`;
