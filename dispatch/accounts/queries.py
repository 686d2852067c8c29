"""Accounts SQL, one named unit per statement. `$1` is the caller's organization wherever org data
is read or written, so a row of another organization is never found, whatever id is asked for."""

from __future__ import annotations

import re

# -- organizations and users -----------------------------------------------------------------

_ORGANIZATION_COLUMNS = " id, name, parties, created_at, country, currency, timezone, locale"

INSERT_ORGANIZATION = (
    """
INSERT INTO organizations (name, parties, country, currency, timezone, locale)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING"""
    + _ORGANIZATION_COLUMNS
)

ORGANIZATION = "SELECT" + _ORGANIZATION_COLUMNS + " FROM organizations WHERE id = $1"

# The row a change of settings starts from, locked until the change commits.
ORGANIZATION_FOR_UPDATE = ORGANIZATION + " FOR UPDATE"

UPDATE_ORGANIZATION_SETTINGS = (
    """
UPDATE organizations SET country = $2, currency = $3, timezone = $4, locale = $5 WHERE id = $1
RETURNING"""
    + _ORGANIZATION_COLUMNS
)

ORGANIZATION_NAME = "SELECT name FROM organizations WHERE id = $1"

INSERT_USER = """
INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3)
ON CONFLICT DO NOTHING
RETURNING id"""

# Login: the user and the organizations they belong to (an empty array when none).
USER_FOR_LOGIN = """
SELECT u.id, u.password_hash, u.disabled_at,
       coalesce(array_agg(m.org_id ORDER BY m.created_at) FILTER (WHERE m.org_id IS NOT NULL),
                '{}') AS org_ids
FROM users u LEFT JOIN memberships m ON m.user_id = u.id
WHERE lower(u.email) = lower($1)
GROUP BY u.id"""

# -- authentication: one query per request, resolving the credential to org + permissions -----

SESSION_PRINCIPAL = """
SELECT o.parties,
       array(SELECT DISTINCT rp.permission
             FROM membership_roles mr JOIN role_permissions rp ON rp.role_id = mr.role_id
             WHERE mr.org_id = m.org_id AND mr.user_id = m.user_id) AS permissions
FROM memberships m
JOIN users u ON u.id = m.user_id AND u.disabled_at IS NULL
JOIN organizations o ON o.id = m.org_id
WHERE m.org_id = $1 AND m.user_id = $2"""

# A user session: the member's permissions, and whether the token's session row is still live
# (`$3`; NULL for a token from before sessions were stored). No row: the membership is gone or the
# user disabled. One query, as for the other credentials.
USER_SESSION_PRINCIPAL = """
SELECT o.parties,
       array(SELECT DISTINCT rp.permission
             FROM membership_roles mr JOIN role_permissions rp ON rp.role_id = mr.role_id
             WHERE mr.org_id = m.org_id AND mr.user_id = m.user_id) AS permissions,
       EXISTS (SELECT 1 FROM sessions s
               WHERE s.id = $3 AND s.org_id = m.org_id AND s.user_id = m.user_id
                 AND s.revoked_at IS NULL) AS live
FROM memberships m
JOIN users u ON u.id = m.user_id AND u.disabled_at IS NULL
JOIN organizations o ON o.id = m.org_id
WHERE m.org_id = $1 AND m.user_id = $2"""


def with_user_session(statement: str, params: int) -> str:
    """`statement` (one row or none, parameters $1..$`params`) read in the same round trip as a user
    session's USER_SESSION_PRINCIPAL (its organization, user and session the next three
    parameters): the session's columns (`parties`, `permissions`, `live`), then the statement's,
    all NULL when it finds no row. No row at all when the session's membership is gone. One
    statement, so both are read in one snapshot."""
    session = re.sub(r"\$(\d+)", lambda m: f"${int(m[1]) + params}", USER_SESSION_PRINCIPAL)
    return (
        """
SELECT s.parties, s.permissions, s.live, x.*
FROM ("""
        + session
        + """) s
LEFT JOIN LATERAL ("""
        + statement
        + ") x ON true"
    )


API_TOKEN_PRINCIPAL = """
SELECT t.id, t.org_id, o.parties, t.revoked_at, t.expires_at,
       array(SELECT permission FROM role_permissions WHERE role_id = t.role_id) AS permissions
FROM api_tokens t JOIN organizations o ON o.id = t.org_id
WHERE t.token_hash = $1"""

# A device token acts with its driver's current membership permissions; it stops working when the
# token is revoked, the membership removed (cascade) or the user disabled.
_DEVICE_PRINCIPAL = """
SELECT d.id, d.org_id, d.user_id, d.revoked_at, o.parties,
       array(SELECT DISTINCT rp.permission
             FROM membership_roles mr JOIN role_permissions rp ON rp.role_id = mr.role_id
             WHERE mr.org_id = d.org_id AND mr.user_id = d.user_id) AS permissions
FROM device_tokens d
JOIN users u ON u.id = d.user_id AND u.disabled_at IS NULL
JOIN organizations o ON o.id = d.org_id"""
DEVICE_TOKEN_PRINCIPAL = (
    _DEVICE_PRINCIPAL
    + """
WHERE d.token_hash = $1"""
)

# Whether a device token still authenticates (see DEVICE_TOKEN_PRINCIPAL): no row when it is
# unknown or its user is disabled.
DEVICE_TOKEN_STATE = """
SELECT d.revoked_at FROM device_tokens d JOIN users u ON u.id = d.user_id AND u.disabled_at IS NULL
WHERE d.id = $1"""

USER_PROFILE = "SELECT id, email, name, locale FROM users WHERE id = $1"

SET_USER_LOCALE = "UPDATE users SET locale = $2 WHERE id = $1"

# -- login throttle (numbers and reasoning: throttle.py) -------------------------------------

# Take one attempt for the account `$1` from the address `$2`, unless either is waiting. The
# account's streak is counted here, before the password is checked, and the upsert's row lock
# orders racing attempts (on any worker), so no more than the limit are ever checked. The wait
# read in `held` is this statement's snapshot; the upsert's WHERE re-checks the latest row.
# `claimed` false with `blocked_until` NULL: a racing attempt started the wait just now.
CLAIM_LOGIN_ATTEMPT = """
WITH held AS (
    SELECT max(blocked_until) AS until FROM login_attempts
    WHERE ((kind = 'account' AND subject = $1) OR (kind = 'address' AND subject = $2))
      AND blocked_until > now()
), claimed AS (
    INSERT INTO login_attempts AS t (kind, subject, attempts, last_attempt, blocked_until)
    SELECT 'account', $1, 1, now(), login_blocked_until(1, $3, $5, $6)
    WHERE (SELECT until FROM held) IS NULL
    ON CONFLICT (kind, subject) DO UPDATE SET
        attempts = CASE WHEN t.last_attempt < now() - make_interval(secs => $4) THEN 1
                        ELSE t.attempts + 1 END,
        last_attempt = now(),
        blocked_until = login_blocked_until(
            CASE WHEN t.last_attempt < now() - make_interval(secs => $4) THEN 1 ELSE t.attempts + 1 END,
            $3, $5, $6)
    WHERE t.blocked_until IS NULL OR t.blocked_until <= now()
    RETURNING 1
)
SELECT (SELECT until FROM held) AS blocked_until, EXISTS (SELECT 1 FROM claimed) AS claimed"""

# How long the account `$1` or the address `$2` still waits (NULL: neither).
LOGIN_WAIT = """
SELECT max(blocked_until) FROM login_attempts
WHERE ((kind = 'account' AND subject = $1) OR (kind = 'address' AND subject = $2))
  AND blocked_until > now()"""

# A wrong password from the address `$1`: its streak grows (counted after the check, so a burst
# may pass the address limit by what was in flight; each account's own limit still holds).
ADDRESS_LOGIN_FAILED = """
INSERT INTO login_attempts AS t (kind, subject, attempts, last_attempt, blocked_until)
VALUES ('address', $1, 1, now(), login_blocked_until(1, $2, $4, $5))
ON CONFLICT (kind, subject) DO UPDATE SET
    attempts = CASE WHEN t.last_attempt < now() - make_interval(secs => $3) THEN 1
                    ELSE t.attempts + 1 END,
    last_attempt = now(),
    blocked_until = greatest(t.blocked_until, login_blocked_until(
        CASE WHEN t.last_attempt < now() - make_interval(secs => $3) THEN 1 ELSE t.attempts + 1 END,
        $2, $4, $5))"""

# A successful login: the account's streak is over, and its session row is made.
LOGIN_SUCCEEDED = """
WITH cleared AS (DELETE FROM login_attempts WHERE kind = 'account' AND subject = $1)
INSERT INTO sessions (org_id, user_id, expires_at, user_agent, address)
VALUES ($2, $3, $4, $5, $6)
RETURNING id"""

END_ACCOUNT_STREAK = "DELETE FROM login_attempts WHERE kind = 'account' AND subject = $1"

# Streaks idle for a day, and sessions a day past their expiry, are forgotten.
PURGE_LOGIN_ATTEMPTS = """
DELETE FROM login_attempts
WHERE last_attempt < now() - interval '1 day' AND (blocked_until IS NULL OR blocked_until < now())"""

PURGE_SESSIONS = "DELETE FROM sessions WHERE expires_at < now() - interval '1 day'"

# -- sessions --------------------------------------------------------------------------------

# The user's live sessions in every organization; `$2` is the caller's own (marked current).
USER_SESSIONS = """
SELECT id, org_id AS organization_id, created_at, expires_at, user_agent, address, id = $2 AS current
FROM sessions
WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()
ORDER BY created_at DESC, id
LIMIT 200"""

END_SESSION = """
UPDATE sessions SET revoked_at = now()
WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL
RETURNING id"""

# Every live session of user `$1`, in every organization ("sign out everywhere").
END_USER_SESSIONS = """
WITH ended AS (
    UPDATE sessions SET revoked_at = now()
    WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()
    RETURNING 1)
SELECT count(*) FROM ended"""

# -- changing one's own password -------------------------------------------------------------

USER_FOR_PASSWORD_CHANGE = "SELECT email, name, password_hash FROM users WHERE id = $1"

# Taken first: changes of one user's password run one after another, so each sees the sessions
# the previous one ended (its own included).
LOCK_USER = "SELECT 1 FROM users WHERE id = $1 FOR UPDATE"

# The new hash of user `$1`, if the caller's session `$3` is still live; no row when it was ended.
SET_USER_PASSWORD = """
UPDATE users SET password_hash = $2
WHERE id = $1 AND EXISTS (
    SELECT 1 FROM sessions
    WHERE id = $3 AND user_id = $1 AND revoked_at IS NULL AND expires_at > now())
RETURNING id"""

# Every live session of user `$1` but `$2` (the one that changed the password).
END_OTHER_USER_SESSIONS = """
WITH ended AS (
    UPDATE sessions SET revoked_at = now()
    WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL AND expires_at > now()
    RETURNING 1)
SELECT count(*) FROM ended"""

# An admin ends a member's sessions in the admin's own organization `$1` only.
END_MEMBER_SESSIONS = """
WITH ended AS (
    UPDATE sessions SET revoked_at = now()
    WHERE org_id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > now()
    RETURNING 1)
SELECT count(*) FROM ended"""

# -- members ---------------------------------------------------------------------------------

_MEMBER_COLUMNS = """
SELECT m.user_id, u.email, u.name, m.created_at AS joined_at,
       coalesce(jsonb_agg(jsonb_build_object('id', r.id, 'name', r.name) ORDER BY r.name)
                FILTER (WHERE r.id IS NOT NULL), '[]') AS roles
FROM memberships m
JOIN users u ON u.id = m.user_id
LEFT JOIN membership_roles mr ON mr.org_id = m.org_id AND mr.user_id = m.user_id
LEFT JOIN roles r ON r.id = mr.role_id"""

# Keyset page by lower(email): `$2` is the last email of the previous page, or NULL.
MEMBERS_PAGE = (
    _MEMBER_COLUMNS
    + """
WHERE m.org_id = $1 AND ($2::text IS NULL OR lower(u.email) > lower($2))
GROUP BY m.user_id, u.email, u.name, m.created_at
ORDER BY lower(u.email)
LIMIT $3"""
)

MEMBER = (
    _MEMBER_COLUMNS
    + """
WHERE m.org_id = $1 AND m.user_id = $2
GROUP BY m.user_id, u.email, u.name, m.created_at"""
)

INSERT_MEMBERSHIP = "INSERT INTO memberships (org_id, user_id) VALUES ($1, $2)"

DELETE_MEMBERSHIP = "DELETE FROM memberships WHERE org_id = $1 AND user_id = $2 RETURNING user_id"

CLEAR_MEMBER_ROLES = "DELETE FROM membership_roles WHERE org_id = $1 AND user_id = $2"

# Grant roles; only roles visible to the organization are taken (the trigger double-checks).
GRANT_ROLES = """
INSERT INTO membership_roles (org_id, user_id, role_id)
SELECT $1, $2, r.id FROM roles r
WHERE r.id = ANY($3::uuid[]) AND (r.org_id IS NULL OR r.org_id = $1)"""

# -- roles -----------------------------------------------------------------------------------

# A built-in role (org_id NULL: the same for every organization) by its name.
BUILTIN_ROLE = "SELECT id FROM roles WHERE org_id IS NULL AND name = $1"

_ROLE_COLUMNS = """
SELECT r.id, r.name, r.description, r.org_id IS NULL AS builtin,
       array(SELECT permission FROM role_permissions WHERE role_id = r.id ORDER BY permission) AS permissions
FROM roles r"""

ROLES = _ROLE_COLUMNS + " WHERE r.org_id IS NULL OR r.org_id = $1 ORDER BY r.org_id NULLS FIRST, r.name"

# The roles among `$2` that the organization may use (built-in or its own).
ROLES_BY_ID = _ROLE_COLUMNS + " WHERE r.id = ANY($2::uuid[]) AND (r.org_id IS NULL OR r.org_id = $1)"

ROLE_NAME_TAKEN = """
SELECT EXISTS (
    SELECT 1 FROM roles
    WHERE (org_id IS NULL OR org_id = $1) AND name = $2 AND id IS DISTINCT FROM $3)"""

# Role changes of one organization take turns, so a name check cannot race another insert.
LOCK_ORG_ROLES = "SELECT pg_advisory_xact_lock(hashtext('roles:' || $1::uuid::text))"

INSERT_ROLE = "INSERT INTO roles (org_id, name, description) VALUES ($1, $2, $3) RETURNING id"

# Custom roles only: a built-in role has org_id NULL and so never matches.
UPDATE_ROLE = """
UPDATE roles SET name = coalesce($3, name), description = coalesce($4, description)
WHERE org_id = $1 AND id = $2
RETURNING id"""

SET_ROLE_PERMISSIONS = """
WITH cleared AS (DELETE FROM role_permissions WHERE role_id = $1)
INSERT INTO role_permissions (role_id, permission) SELECT $1, unnest($2::text[])"""

ROLE_IN_USE = """
SELECT (SELECT count(*) FROM membership_roles WHERE role_id = $1) AS members,
       (SELECT count(*) FROM api_tokens WHERE role_id = $1 AND revoked_at IS NULL) AS tokens"""

DELETE_ROLE = "DELETE FROM roles WHERE org_id = $1 AND id = $2 RETURNING id"

PERMISSIONS = "SELECT code, description FROM permissions ORDER BY code"

# -- API tokens ------------------------------------------------------------------------------

_API_TOKEN_COLUMNS = """
SELECT t.id, t.name, t.created_at, t.expires_at, t.revoked_at,
       jsonb_build_object('id', r.id, 'name', r.name) AS role
FROM api_tokens t JOIN roles r ON r.id = t.role_id"""

API_TOKENS = _API_TOKEN_COLUMNS + " WHERE t.org_id = $1 ORDER BY t.created_at, t.id"

API_TOKEN = _API_TOKEN_COLUMNS + " WHERE t.org_id = $1 AND t.id = $2"

INSERT_API_TOKEN = """
INSERT INTO api_tokens (org_id, role_id, name, token_hash, created_by, expires_at)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id"""

# Revoking twice keeps the first revocation time.
REVOKE_API_TOKEN = """
UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now())
WHERE org_id = $1 AND id = $2
RETURNING id"""

# -- device tokens ---------------------------------------------------------------------------

_DEVICE_TOKEN_COLUMNS = "SELECT id, user_id, name, created_at, revoked_at FROM device_tokens"

DEVICE_TOKENS = _DEVICE_TOKEN_COLUMNS + " WHERE org_id = $1 ORDER BY created_at, id"

DEVICE_TOKEN = _DEVICE_TOKEN_COLUMNS + " WHERE org_id = $1 AND id = $2"

INSERT_DEVICE_TOKEN = """
INSERT INTO device_tokens (org_id, user_id, name, token_hash, created_by, tracker_hash)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id"""

REVOKE_DEVICE_TOKEN = """
UPDATE device_tokens SET revoked_at = coalesce(revoked_at, now())
WHERE org_id = $1 AND id = $2
RETURNING id"""

# The device token whose tracker id (Traccar Client's device identifier) hashes to `$1`, with its
# driver's permissions as DEVICE_TOKEN_PRINCIPAL gives them.
TRACKER_PRINCIPAL = (
    _DEVICE_PRINCIPAL
    + """
WHERE d.tracker_hash = $1"""
)

# -- pairing a phone (pairing.py) ------------------------------------------------------------

# A new pairing code for the driver `$2` of organization `$1`, open for `$5` minutes. No row: the
# code's hash is taken (an older code within the purge window; the caller draws another).
INSERT_PAIRING = """
INSERT INTO pairings (org_id, user_id, code_hash, created_by, expires_at)
VALUES ($1, $2, $3, $4, now() + make_interval(mins => $5))
ON CONFLICT (code_hash) DO NOTHING
RETURNING id, user_id, created_at, expires_at"""

# The driver's codes that can still be redeemed (never the codes: only their hashes are kept).
OPEN_PAIRINGS = """
SELECT id, user_id, created_by, created_at, expires_at
FROM pairings
WHERE org_id = $1 AND user_id = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
ORDER BY created_at, id"""

REVOKE_PAIRING = """
UPDATE pairings SET revoked_at = now()
WHERE org_id = $1 AND user_id = $2 AND id = $3
  AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
RETURNING id"""

PAIRING_DEVICE = (
    "SELECT used_at, device_token_id FROM pairings WHERE org_id = $1 AND user_id = $2 AND id = $3"
)

# Redeem a code: the one conditional update that settles which phone gets it. A racing second
# phone waits for the first's row lock, then finds used_at set and updates nothing.
REDEEM_PAIRING = """
UPDATE pairings SET used_at = now()
WHERE code_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
RETURNING id, org_id, user_id, created_by"""

# Why a code was not redeemed (no row: no such code).
PAIRING_STATE = "SELECT used_at, revoked_at, expires_at FROM pairings WHERE code_hash = $1"

SET_PAIRING_DEVICE = "UPDATE pairings SET device_token_id = $2 WHERE id = $1"

# The names a paired phone shows: its driver's and the organization's.
DRIVER_AND_ORGANIZATION = """
SELECT u.name AS driver_name, o.name AS organization_name
FROM users u, organizations o WHERE u.id = $2 AND o.id = $1"""

# Wrong pairing codes from the address `$1`: while it waits, no code is checked (see throttle.py).
PAIRING_WAIT = """
SELECT blocked_until FROM login_attempts
WHERE kind = 'pairing' AND subject = $1 AND blocked_until > now()"""

# A wrong pairing code from the address `$1`: its streak grows, as ADDRESS_LOGIN_FAILED's does.
PAIRING_FAILED = """
INSERT INTO login_attempts AS t (kind, subject, attempts, last_attempt, blocked_until)
VALUES ('pairing', $1, 1, now(), login_blocked_until(1, $2, $4, $5))
ON CONFLICT (kind, subject) DO UPDATE SET
    attempts = CASE WHEN t.last_attempt < now() - make_interval(secs => $3) THEN 1
                    ELSE t.attempts + 1 END,
    last_attempt = now(),
    blocked_until = greatest(t.blocked_until, login_blocked_until(
        CASE WHEN t.last_attempt < now() - make_interval(secs => $3) THEN 1 ELSE t.attempts + 1 END,
        $2, $4, $5))"""

# Codes a day past their expiry are forgotten (which device a used one paired stays in the events).
PURGE_PAIRINGS = "DELETE FROM pairings WHERE expires_at < now() - interval '1 day'"
