-- Pairing a driver's phone (dispatch/accounts/pairing.py) and the tracker id of Traccar Client.

-- A one-time pairing code a dispatcher makes for a driver: the phone that presents it first, before
-- it expires, gets a device token. Only an HMAC of the code is kept (keyed with the server's secret:
-- an 8-character code is too small a space for a plain hash to hide it). Redeeming is one
-- conditional UPDATE (used_at IS NULL AND expires_at > now()), so of two phones racing one code,
-- exactly one wins. A removed membership takes its pairings along.
CREATE TABLE pairings (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id          uuid NOT NULL,
    user_id         uuid NOT NULL,
    code_hash       bytea NOT NULL UNIQUE,
    created_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz,
    revoked_at      timestamptz,
    -- The device token the code was exchanged for.
    device_token_id uuid REFERENCES device_tokens (id) ON DELETE SET NULL,
    FOREIGN KEY (org_id, user_id) REFERENCES memberships (org_id, user_id) ON DELETE CASCADE,
    CHECK (expires_at > created_at),
    CHECK (device_token_id IS NULL OR used_at IS NOT NULL)
);
CREATE INDEX pairings_driver_idx ON pairings (org_id, user_id, expires_at);
CREATE INDEX pairings_age_idx ON pairings (expires_at);

-- Each device token has a tracker id: what Traccar Client sends as its device identifier (`id` or
-- `device_id`) with every position. Only its SHA-256 is kept, like the token's; it dies with the
-- token (revoked, membership removed). Tokens issued before this migration have none.
ALTER TABLE device_tokens ADD COLUMN tracker_hash bytea UNIQUE;

-- Wrong pairing codes are throttled per client address, with the login throttle's table and waits.
ALTER TABLE login_attempts DROP CONSTRAINT login_attempts_kind_check;
ALTER TABLE login_attempts ADD CONSTRAINT login_attempts_kind_check
    CHECK (kind IN ('account', 'address', 'pairing'));
