-- Login hardening: revocable user sessions and the login throttle shared by every worker.

-- One row per login. The session token (`u1.…`, HMAC-signed) names its row by `id`; every
-- authenticated request checks the row is still live, in the same query that reads the
-- member's permissions. Ending a session sets `revoked_at`; the row stays until it expires, so
-- "your sessions" can list what was ended too. A removed membership takes its sessions along.
CREATE TABLE sessions (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id     uuid NOT NULL,
    user_id    uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    -- Shown in the user's list of sessions, to tell them apart; never used to authenticate.
    user_agent text NOT NULL DEFAULT '' CHECK (length(user_agent) <= 200),
    address    text NOT NULL DEFAULT '' CHECK (length(address) <= 100),
    FOREIGN KEY (org_id, user_id) REFERENCES memberships (org_id, user_id) ON DELETE CASCADE
);
CREATE INDEX sessions_user_idx ON sessions (user_id, created_at);
CREATE INDEX sessions_expiry_idx ON sessions (expires_at);

-- Disabling a user ends their sessions (authentication already refuses a disabled user; this
-- keeps a later re-enable from bringing the old tokens back).
CREATE FUNCTION end_sessions_of_disabled_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE sessions SET revoked_at = now() WHERE user_id = NEW.id AND revoked_at IS NULL;
    RETURN NEW;
END $$;

CREATE TRIGGER users_disabled_ends_sessions AFTER UPDATE OF disabled_at ON users
    FOR EACH ROW WHEN (OLD.disabled_at IS NULL AND NEW.disabled_at IS NOT NULL)
    EXECUTE FUNCTION end_sessions_of_disabled_user();

-- Login attempts per subject: `account` (the lower-cased email, known or not, so the throttle
-- confirms no email) and `address` (the client's IP). An attempt is counted before its password
-- is checked (one conditional upsert, see dispatch/accounts/queries.py CLAIM_LOGIN_ATTEMPT), so
-- racing attempts cannot all pass the limit. dispatch/accounts/README.md has the numbers.
CREATE TABLE login_attempts (
    kind          text NOT NULL CHECK (kind IN ('account', 'address')),
    subject       text NOT NULL CHECK (length(subject) <= 320),
    -- Attempts in the current streak; the streak is forgotten once its last attempt is old.
    attempts      integer NOT NULL CHECK (attempts >= 0),
    last_attempt  timestamptz NOT NULL,
    -- Until then every attempt is refused (429) without checking the password.
    blocked_until timestamptz,
    PRIMARY KEY (kind, subject)
);
CREATE INDEX login_attempts_age_idx ON login_attempts (last_attempt);

-- When a subject's streak of `attempts` (counting this one) reaches `lim`, it waits: `base_s`
-- seconds, doubling with each further attempt, at most `cap_s`. NULL: no wait.
CREATE FUNCTION login_blocked_until(attempts integer, lim integer, base_s float8, cap_s float8)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN attempts >= lim
                THEN now() + make_interval(secs => least(base_s * power(2, least(attempts - lim, 30)), cap_s))
           END
$$;
