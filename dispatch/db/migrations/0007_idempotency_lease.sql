-- Idempotency claims that expire (issue 16): a claim left by a killed worker or a database restart
-- no longer blocks its key until the 24-hour purge. `lease_until`: until when the claim's holder
-- may still be running; after it, a retry with the same request takes the claim over. `claim_id`:
-- which holder owns the claim now, so a holder that was taken over cannot store or forget it.
-- Claims that are in progress while this runs get a lease that has already expired.
ALTER TABLE idempotency_keys
    ADD COLUMN lease_until timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN claim_id    uuid;
