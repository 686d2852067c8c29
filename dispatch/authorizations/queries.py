"""Authorization SQL, one named unit per statement.

Who may read an authorization (its issuer and its carrier) is decided in the SQL. The gate looks a
code up by its SHA-256 (`codes.code_hash`): first among job authorizations, then among loads.
"""

from __future__ import annotations

# -- the goods owner's authorization ----------------------------------------------------------

# The id is drawn by the caller, so the code derived from it is stored in the same statement (an
# award's authorization is written while the job's row lock is held: one round trip, not two).
INSERT_AUTHORIZATION = """
INSERT INTO pickup_authorizations (id, code_hash, job_id, issuer_org_id, carrier_org_id, site_id,
                                   valid_from, valid_until, allowed_plates, allowed_driver_ids, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (job_id) WHERE revoked_at IS NULL DO NOTHING
RETURNING id"""

AUTHORIZATION = "SELECT * FROM pickup_authorizations WHERE id = $1"

# The job's latest authorization, for its issuer or its carrier ($2).
AUTHORIZATION_OF_JOB = """
SELECT * FROM pickup_authorizations
WHERE job_id = $1 AND $2 IN (issuer_org_id, carrier_org_id)
ORDER BY revoked_at IS NULL DESC, created_at DESC
LIMIT 1"""

REVOKE_AUTHORIZATION = """
UPDATE pickup_authorizations SET revoked_at = clock_timestamp(), revoke_reason = $3
WHERE job_id = $1 AND issuer_org_id = $2 AND revoked_at IS NULL
RETURNING *"""

# The award behind it was withdrawn ($3: award_given_back or award_cancelled).
REVOKE_FOR_WITHDRAWN_AWARD = """
UPDATE pickup_authorizations SET revoked_at = clock_timestamp(), revoke_reason = $2, revoke_cause = $3
WHERE job_id = $1 AND revoked_at IS NULL
RETURNING *"""

# -- the gate's code check --------------------------------------------------------------------

AUTHORIZATION_BY_CODE = """
SELECT a.*, o.name AS carrier_name
FROM pickup_authorizations a
LEFT JOIN organizations o ON o.id = a.carrier_org_id
WHERE a.code_hash = $1"""

# A load by its pickup code, with what the gate needs to judge it.
LOAD_BY_CODE = """
SELECT l.id, l.job_id, l.seq, j.reference AS job_reference, l.driver_user_id, l.carrier_org_id, l.status,
       l.approval, v.plate, v.plate_display, u.name AS driver_name, o.name AS carrier_name,
       j.origin_site_id AS site_id,
       a.id AS authorization_id, a.revoked_at, a.valid_from, a.valid_until, a.revoke_cause, a.revoke_reason
FROM loads l
JOIN vehicles v ON v.id = l.vehicle_id
JOIN jobs j ON j.id = l.job_id
JOIN organizations o ON o.id = l.carrier_org_id
LEFT JOIN users u ON u.id = l.driver_user_id
LEFT JOIN LATERAL (SELECT * FROM pickup_authorizations pa
                   WHERE pa.job_id = l.job_id AND pa.carrier_org_id = l.carrier_org_id
                   ORDER BY pa.revoked_at IS NULL DESC, pa.created_at DESC LIMIT 1) a ON true
WHERE l.code_hash = $1"""

# A code that a reassignment of its load retired, with the site it was for.
RETIRED_LOAD_CODE = """
SELECT r.load_id, j.origin_site_id AS site_id
FROM load_retired_codes r
JOIN loads l ON l.id = r.load_id
JOIN jobs j ON j.id = l.job_id
WHERE r.code_hash = $1"""

# The job's authorization in force (not revoked), if any: what it names.
AUTHORIZATION_IN_FORCE = """
SELECT allowed_plates, allowed_driver_ids FROM pickup_authorizations
WHERE job_id = $1 AND revoked_at IS NULL"""

# The check logged, if the site ($1) is the caller's organization's ($7) own: no row, no such site of
# theirs (nothing logged). The site check rides on the log's statement: one round trip, not two.
LOG_GATE_CHECK = """
INSERT INTO gate_verifications (site_id, checked_by, authorization_id, plate, driver_id, result)
SELECT $1, $2, $3, $4, $5, $6 FROM sites WHERE id = $1 AND org_id = $7
RETURNING id"""
