-- An endpoint's screen shows its last attempt and its attempts log, newest first. Attempts were
-- reachable only through their deliveries, so both read every delivery the endpoint ever had; an
-- attempt now carries its endpoint (written by the attempt's INSERT from its delivery), indexed.
-- No foreign key of its own: an attempt already goes with its delivery, which goes with its endpoint.
ALTER TABLE webhook_attempts ADD COLUMN endpoint_id uuid;
UPDATE webhook_attempts a SET endpoint_id = d.endpoint_id FROM webhook_deliveries d WHERE d.id = a.delivery_id;
ALTER TABLE webhook_attempts ALTER COLUMN endpoint_id SET NOT NULL;
CREATE INDEX webhook_attempts_endpoint_idx ON webhook_attempts (endpoint_id, id);

-- "Failing since": the oldest delivery still waiting after a failed attempt, per endpoint.
CREATE INDEX webhook_deliveries_failing_idx ON webhook_deliveries (endpoint_id, created_at)
WHERE attempts > 0 AND state IN ('pending', 'failed');
