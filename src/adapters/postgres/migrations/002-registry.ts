/** The queue registry (DESIGN §4) and the dispatcher's shared stop flag. */
export const name = '002-registry';

export const sql = `
CREATE TABLE queue_registry (
  id                text PRIMARY KEY,
  state             text NOT NULL DEFAULT 'idle' CHECK (state IN ('idle', 'busy', 'paused')),
  deleted           boolean NOT NULL DEFAULT false,
  deleted_at        timestamptz,
  message_count     bigint NOT NULL DEFAULT 0,
  ready_count       bigint NOT NULL DEFAULT 0,
  unacked_count     bigint NOT NULL DEFAULT 0,
  -- Unknown until the maintainer counts: assume there is work.
  has_messages      boolean NOT NULL DEFAULT true,
  consumer          text,
  lease_id          text,
  leased_at         timestamptz,
  lease_expires_at  timestamptz,
  last_delivered_at timestamptz,
  counted_at        timestamptz,
  updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Claims only ever look at idle, live queues: keep that set in small partial
-- indexes in the order each strategy reads it.
CREATE INDEX queue_registry_fifo_idx ON queue_registry (last_delivered_at NULLS FIRST, id)
  WHERE state = 'idle' AND NOT deleted;
CREATE INDEX queue_registry_messages_first_idx
  ON queue_registry (has_messages DESC, last_delivered_at NULLS FIRST, id)
  WHERE state = 'idle' AND NOT deleted;
CREATE INDEX queue_registry_leases_idx ON queue_registry (lease_expires_at)
  WHERE lease_id IS NOT NULL;

CREATE TABLE dispatcher_control (
  id         integer PRIMARY KEY CHECK (id = 1),
  stopped    boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO dispatcher_control (id) VALUES (1);
`;
