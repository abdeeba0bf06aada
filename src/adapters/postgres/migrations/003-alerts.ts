/**
 * Alert endpoints and rules, the notification outbox (its primary key is the
 * idempotency key, so a replayed reading never makes a second notification),
 * delivery attempts, and a ledger of consumed readings messages.
 */
export const name = '003-alerts';

export const sql = `
CREATE TABLE alert_endpoints (
  name        text PRIMARY KEY,
  url         text NOT NULL,
  secret      text,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE alert_rules (
  id          bigserial PRIMARY KEY,
  account_id  text NOT NULL,
  source_key  text,
  device      text,
  param       integer NOT NULL,
  above       double precision,
  below       double precision,
  endpoint    text NOT NULL REFERENCES alert_endpoints(name) ON UPDATE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CHECK (above IS NOT NULL OR below IS NOT NULL)
);
CREATE INDEX alert_rules_account_idx ON alert_rules (account_id);

-- Consumers cache rules and endpoints and re-read them when this number moves.
CREATE TABLE alert_config_version (
  one      boolean PRIMARY KEY DEFAULT true CHECK (one),
  version  bigint NOT NULL
);
INSERT INTO alert_config_version VALUES (true, 1);

CREATE FUNCTION ingest_bump_alert_config() RETURNS trigger AS $$
BEGIN
  UPDATE alert_config_version SET version = version + 1;
  PERFORM pg_notify('ingest_alerts', TG_TABLE_NAME);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER alert_rules_bump AFTER INSERT OR UPDATE OR DELETE ON alert_rules
  FOR EACH STATEMENT EXECUTE FUNCTION ingest_bump_alert_config();
CREATE TRIGGER alert_endpoints_bump AFTER INSERT OR UPDATE OR DELETE ON alert_endpoints
  FOR EACH STATEMENT EXECUTE FUNCTION ingest_bump_alert_config();

-- The outbox: written in the transaction that stores the readings, published
-- after commit, marked published after the broker confirms. Rows still
-- unpublished after a crash are published again by the next consumer.
CREATE TABLE alert_notifications (
  idempotency_key  text PRIMARY KEY,
  rule_id          bigint NOT NULL,
  endpoint         text NOT NULL,
  payload          jsonb NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  published_at     timestamptz
);
CREATE INDEX alert_notifications_unpublished_idx ON alert_notifications (created_at)
  WHERE published_at IS NULL;

CREATE TABLE alert_deliveries (
  id               bigserial PRIMARY KEY,
  idempotency_key  text NOT NULL,
  endpoint         text NOT NULL,
  attempt          integer NOT NULL,
  outcome          text NOT NULL CHECK (outcome IN ('delivered', 'failed', 'dead')),
  http_status      integer,
  error            text,
  duration_ms      integer,
  at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_deliveries_key_idx ON alert_deliveries (idempotency_key);
CREATE INDEX alert_deliveries_at_idx ON alert_deliveries (at DESC);

-- Readings messages already stored (message id = hash of gateway and body).
CREATE TABLE consumed_messages (
  message_id   text PRIMARY KEY,
  source_key   text NOT NULL,
  values_count integer NOT NULL,
  stored_at    timestamptz NOT NULL DEFAULT now()
);
`;
