"""Webhooks SQL."""

# A new endpoint reads the feed from now on: the oldest transaction still running. Every event of an
# older transaction has committed (and is not for this endpoint); an event of a transaction still
# running may yet commit, and is delivered.
INSERT_ENDPOINT = """
INSERT INTO webhook_endpoints (org_id, url, event_types, description, paused, secret, cursor_tx, cursor_id)
VALUES ($1, $2, $3, $4, $5, $6, pg_snapshot_xmin(pg_current_snapshot()), 0)
RETURNING *"""

ENDPOINT = "SELECT * FROM webhook_endpoints WHERE id = $1 AND org_id = $2 AND deleted_at IS NULL"

ENDPOINT_FOR_UPDATE = ENDPOINT + " FOR UPDATE"

# An endpoint as its organization reads it: with its last attempt (the newest of any delivery) and,
# while deliveries wait after failed attempts, since when (the oldest such delivery was first due;
# a resume makes waiting deliveries due anew). Both are index reads (the attempts carry their
# endpoint; the failing deliveries have a partial index), so an endpoint's long history costs nothing.
_ENDPOINT_STATE = """
SELECT e.*, last.attempted_at AS last_attempted_at, last.status_code AS last_status_code,
       last.ok AS last_ok, last.latency_ms AS last_latency_ms, last.response_excerpt AS last_excerpt,
       (SELECT min(d.created_at) FROM webhook_deliveries d
        WHERE d.endpoint_id = e.id AND d.attempts > 0 AND d.state IN ('pending', 'failed')) AS failing_since
FROM webhook_endpoints e
LEFT JOIN LATERAL (
    SELECT a.attempted_at, a.status_code, a.ok, a.latency_ms, a.response_excerpt
    FROM webhook_attempts a
    WHERE a.endpoint_id = e.id
    ORDER BY a.id DESC
    LIMIT 1
) last ON true
"""

ENDPOINT_STATE = _ENDPOINT_STATE + "WHERE e.id = $1 AND e.org_id = $2 AND e.deleted_at IS NULL"

ENDPOINTS = _ENDPOINT_STATE + "WHERE e.org_id = $1 AND e.deleted_at IS NULL ORDER BY e.created_at, e.id"

UPDATE_ENDPOINT = """
UPDATE webhook_endpoints
SET url = $3, event_types = $4, description = $5, paused = $6, disabled_at = $7
WHERE id = $1 AND org_id = $2
RETURNING *"""

DELETE_ENDPOINT = """
UPDATE webhook_endpoints SET deleted_at = now(), paused = true
WHERE id = $1 AND org_id = $2 AND deleted_at IS NULL"""

ROTATE_SECRET = """
UPDATE webhook_endpoints
SET previous_secret = secret, previous_until = now() + make_interval(secs => $3), secret = $4
WHERE id = $1 AND org_id = $2
RETURNING *"""

# Secrets stored before they were sealed (dispatch/webhooks/sealing.py), deleted endpoints too.
ENDPOINTS_WITH_CLEAR_SECRETS = """
SELECT id, org_id, secret, previous_secret FROM webhook_endpoints
WHERE secret LIKE 'whsec\\_%' OR previous_secret LIKE 'whsec\\_%'"""

# Only if the row still holds what was read (a rotation meanwhile wins).
SEAL_SECRETS = """
UPDATE webhook_endpoints SET secret = $4, previous_secret = $5
WHERE id = $1 AND secret = $2 AND previous_secret IS NOT DISTINCT FROM $3"""

# A resumed endpoint's waiting deliveries are due again, from their first try.
RESUME_DELIVERIES = """
UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = now(), created_at = now()
WHERE endpoint_id = $1 AND state IN ('pending', 'failed')"""

INSERT_DELIVERY = """
INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, subject, body)
VALUES ($1, $2, $3, $4, $5)
RETURNING id"""

# -- the fan-out ----------------------------------------------------------------------------------

# Endpoints whose feed position to advance, each taken by one worker at a time.
ENDPOINTS_TO_FAN_OUT = """
SELECT id, org_id, event_types, cursor_tx::text AS cursor_tx, cursor_id
FROM webhook_endpoints
WHERE deleted_at IS NULL
ORDER BY id
FOR UPDATE SKIP LOCKED"""

ADVANCE_CURSOR = """
UPDATE webhook_endpoints SET cursor_tx = $2::text::xid8, cursor_id = $3 WHERE id = $1"""

# -- the claim loop -------------------------------------------------------------------------------

# Due deliveries of live endpoints whose subject has nothing older still waiting at that endpoint
# (in order per subject), claimed for $2 seconds under a fresh claim id $3. SKIP LOCKED: workers
# claiming at once take different rows; an expired claim (its worker died) is taken again.
CLAIM_DUE = """
WITH due AS (
    SELECT d.id
    FROM webhook_deliveries d
    JOIN webhook_endpoints e ON e.id = d.endpoint_id
    WHERE d.state = 'pending'
      AND d.next_attempt_at <= now()
      AND (d.claimed_until IS NULL OR d.claimed_until < now())
      AND NOT e.paused AND e.disabled_at IS NULL AND e.deleted_at IS NULL
      AND NOT EXISTS (
          SELECT 1 FROM webhook_deliveries older
          WHERE older.endpoint_id = d.endpoint_id AND older.subject = d.subject
            AND older.state = 'pending' AND older.id < d.id)
    ORDER BY d.next_attempt_at, d.id
    LIMIT $1
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_deliveries d
SET claim = $3, claimed_until = now() + make_interval(secs => $2)
FROM due, webhook_endpoints e
WHERE d.id = due.id AND e.id = d.endpoint_id
RETURNING d.id, d.endpoint_id, d.event_id, d.event_type, d.body, d.attempts, d.created_at,
          e.org_id, e.url, e.secret,
          CASE WHEN e.previous_until > now() THEN e.previous_secret END AS previous_secret"""

# The attempt ($1 delivery, $2 status, $3 latency, $4 ok, $5 excerpt) is logged together with the
# delivery's new state, which only the worker still holding the claim ($6) writes: a worker that
# outlived its claim (another one took the delivery over) only logs its attempt.
_LOG_ATTEMPT = """
WITH attempt AS (
    INSERT INTO webhook_attempts (delivery_id, endpoint_id, status_code, latency_ms, ok, response_excerpt)
    VALUES ($1, (SELECT endpoint_id FROM webhook_deliveries WHERE id = $1), $2, $3, $4, $5)
)
"""

DELIVERED = (
    _LOG_ATTEMPT
    + """
UPDATE webhook_deliveries
SET state = 'delivered', delivered_at = now(), attempts = attempts + 1, claim = NULL, claimed_until = NULL
WHERE id = $1 AND claim = $6"""
)

# $7: seconds until the next attempt.
RETRY_LATER = (
    _LOG_ATTEMPT
    + """
UPDATE webhook_deliveries
SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $7),
    claim = NULL, claimed_until = NULL
WHERE id = $1 AND claim = $6"""
)

GIVE_UP = (
    _LOG_ATTEMPT
    + """
UPDATE webhook_deliveries
SET state = 'failed', attempts = attempts + 1, claim = NULL, claimed_until = NULL
WHERE id = $1 AND claim = $6
RETURNING true"""
)

DISABLE_ENDPOINT = """
UPDATE webhook_endpoints SET disabled_at = now()
WHERE id = $1 AND disabled_at IS NULL
RETURNING org_id, url"""

# -- what the organization sees -------------------------------------------------------------------

DELIVERIES = """
SELECT d.id, d.event_id, d.event_type, d.state, d.attempts, d.next_attempt_at, d.created_at,
       d.delivered_at
FROM webhook_deliveries d
WHERE d.endpoint_id = $1 AND ($2::bigint IS NULL OR d.id < $2)
ORDER BY d.id DESC
LIMIT $3"""

DELIVERY = "SELECT id FROM webhook_deliveries WHERE id = $1 AND endpoint_id = $2"

ATTEMPTS = """
SELECT id, attempted_at, status_code, latency_ms, ok, response_excerpt
FROM webhook_attempts WHERE delivery_id = $1 ORDER BY id"""

# The endpoint's latest attempts over all its deliveries, newest first ($2 NULL: from the newest; else
# older than that attempt id).
RECENT_ATTEMPTS = """
SELECT a.id, a.attempted_at, a.status_code, a.latency_ms, a.ok, a.response_excerpt,
       d.id AS delivery_id, d.event_id, d.event_type, d.state
FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
WHERE a.endpoint_id = $1 AND ($2::bigint IS NULL OR a.id < $2)
ORDER BY a.id DESC
LIMIT $3"""
