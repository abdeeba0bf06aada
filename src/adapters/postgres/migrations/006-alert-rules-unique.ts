/**
 * One rule per thing watched and endpoint notified: the same rule added twice
 * used to notify every crossing twice. Two rules are the same when account,
 * gateway, device, param, thresholds and endpoint all match, an absent gateway,
 * device or threshold (NULL) matching only another absent one: each nullable
 * column is indexed as its value (NULL coalesced) plus whether it is NULL, so no
 * sentinel value can collide with a real one (NULLS NOT DISTINCT is PG15+).
 * Duplicates made before this migration are removed first, the oldest of each
 * kept; the trigger of migration 003 makes running consumers re-read the rules.
 * alert_rules is small: a plain index build inside the transaction is fine.
 */
export const name = '006-alert-rules-unique';

export const sql = `
-- No rule may be added between the clean-up and the index (the migration would fail).
LOCK TABLE alert_rules IN SHARE ROW EXCLUSIVE MODE;

DELETE FROM alert_rules r
 USING alert_rules older
 WHERE older.id < r.id
   AND older.account_id = r.account_id
   AND older.source_key IS NOT DISTINCT FROM r.source_key
   AND older.device IS NOT DISTINCT FROM r.device
   AND older.param = r.param
   AND older.above IS NOT DISTINCT FROM r.above
   AND older.below IS NOT DISTINCT FROM r.below
   AND older.endpoint = r.endpoint;

CREATE UNIQUE INDEX alert_rules_same_rule_idx ON alert_rules (
  account_id,
  param,
  endpoint,
  COALESCE(source_key, ''), (source_key IS NULL),
  COALESCE(device, ''), (device IS NULL),
  COALESCE(above, 0), (above IS NULL),
  COALESCE(below, 0), (below IS NULL)
);
`;
