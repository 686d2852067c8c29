"""Loads SQL."""

# The job as its awarded carrier ($2) sees it, locked for planning changes.
CARRIER_JOB_FOR_UPDATE = """
SELECT * FROM jobs WHERE id = $1 AND carrier_org_id = $2 FOR UPDATE"""

CARRIER_JOB = "SELECT * FROM jobs WHERE id = $1 AND carrier_org_id = $2"

PLAN = "SELECT * FROM load_plans WHERE job_id = $1 AND carrier_org_id = $2"

UPSERT_PLAN = """
INSERT INTO load_plans (job_id, carrier_org_id, loads, trips, cost_minor, lower_bound, optimal, method,
                        edited)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (job_id) DO UPDATE SET loads = EXCLUDED.loads, trips = EXCLUDED.trips,
    cost_minor = EXCLUDED.cost_minor, lower_bound = EXCLUDED.lower_bound, optimal = EXCLUDED.optimal,
    method = EXCLUDED.method, edited = EXCLUDED.edited, updated_at = now()
WHERE load_plans.confirmed_at IS NULL
RETURNING job_id"""

CONFIRM_PLAN = "UPDATE load_plans SET confirmed_at = now() WHERE job_id = $1 AND confirmed_at IS NULL"

INSERT_LOAD = """
INSERT INTO loads (job_id, carrier_org_id, seq, vehicle_id, trip, bulk_kg, items, weight_kg, volume_m3,
                   pickup_window)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, tstzrange($10, $11))
RETURNING id"""

SET_LOAD_CODE = "UPDATE loads SET code_hash = $2 WHERE id = $1"

_LOAD_COLUMNS = """
SELECT l.id, l.job_id, l.seq, l.status, l.trip, l.bulk_kg, l.items, l.weight_kg, l.volume_m3,
       lower(l.pickup_window) AS pickup_from, upper(l.pickup_window) AS pickup_until,
       l.assignment_version, l.carrier_org_id, l.driver_user_id, l.approval, l.approval_reason,
       jsonb_build_object('id', v.id, 'plate', v.plate_display) AS vehicle,
       CASE WHEN l.driver_user_id IS NULL THEN NULL
            ELSE jsonb_build_object('user_id', u.id, 'name', u.name, 'phone', d.phone) END AS driver,
       CASE WHEN pv.id IS NULL THEN NULL
            ELSE jsonb_build_object('id', pv.id, 'plate', pv.plate_display) END AS previous_vehicle,
       CASE WHEN pu.id IS NULL THEN NULL
            ELSE jsonb_build_object('user_id', pu.id, 'name', pu.name, 'phone', NULL) END AS previous_driver
FROM loads l
JOIN vehicles v ON v.id = l.vehicle_id
LEFT JOIN users u ON u.id = l.driver_user_id
LEFT JOIN driver_profiles d ON d.org_id = l.carrier_org_id AND d.user_id = l.driver_user_id
LEFT JOIN vehicles pv ON pv.id = l.previous_vehicle_id
LEFT JOIN users pu ON pu.id = l.previous_driver_user_id"""

# A job's loads for any of its parties ($2).
LOADS_OF_JOB = (
    _LOAD_COLUMNS
    + """
JOIN jobs j ON j.id = l.job_id
WHERE l.job_id = $1 AND $2 IN (j.poster_org_id, j.shipper_org_id, j.consignee_org_id, j.carrier_org_id)
  -- after a re-award, the loads of the carrier that failed the job are no longer the job's
  AND (j.carrier_org_id IS NULL OR l.carrier_org_id = j.carrier_org_id)
ORDER BY l.seq"""
)


# The job, if organization $2 is one of its parties (who may list its loads).
JOB_OF_PARTY = """
SELECT id FROM jobs
WHERE id = $1 AND $2 IN (poster_org_id, shipper_org_id, consignee_org_id, carrier_org_id)"""

# One load, if organization $2 is one of its job's parties.
LOAD_OF_PARTY = (
    _LOAD_COLUMNS
    + """
JOIN jobs j ON j.id = l.job_id
WHERE l.id = $1 AND $2 IN (j.poster_org_id, j.shipper_org_id, j.consignee_org_id, j.carrier_org_id)"""
)

LOAD_OF_CARRIER = _LOAD_COLUMNS + " WHERE l.id = $1 AND l.carrier_org_id = $2"

LOAD_FOR_UPDATE = "SELECT * FROM loads WHERE id = $1 AND carrier_org_id = $2 FOR UPDATE"

ASSIGN = """
UPDATE loads SET driver_user_id = $3, vehicle_id = $4,
                 status = CASE WHEN status = 'planned' THEN 'assigned' ELSE status END,
                 assignment_version = assignment_version + 1, updated_at = now()
WHERE id = $1 AND carrier_org_id = $2
RETURNING assignment_version"""

UNASSIGNED_LOADS = (
    "SELECT count(*) FROM loads WHERE job_id = $1 AND driver_user_id IS NULL AND status <> 'cancelled'"
)

DISPATCH_JOB = "UPDATE jobs SET status = 'dispatched' WHERE id = $1 AND status = 'awarded' RETURNING *"

DRIVER_OF_CARRIER = """
SELECT d.user_id FROM driver_profiles d
WHERE d.org_id = $1 AND d.user_id = $2
  AND EXISTS (SELECT 1 FROM membership_roles mr JOIN role_permissions rp ON rp.role_id = mr.role_id
              WHERE mr.org_id = d.org_id AND mr.user_id = d.user_id AND rp.permission = 'drive')"""

# Among $1, the vehicles already on live loads of other jobs overlapping [$3, $4).
BUSY_VEHICLES = """
SELECT DISTINCT v.plate_display AS plate FROM loads l JOIN vehicles v ON v.id = l.vehicle_id
WHERE l.vehicle_id = ANY($1::uuid[]) AND l.job_id <> $2 AND l.status NOT IN ('received', 'cancelled')
  AND l.pickup_window && tstzrange($3, $4)"""

# -- swaps (dispatch/loads/swaps.py) ----------------------------------------------------------

VEHICLE_PLATE = "SELECT plate, plate_display FROM vehicles WHERE id = $1"

# Keep the load's current code (its hash) as retired before a reassignment replaces it.
RETIRE_CODE = """
INSERT INTO load_retired_codes (code_hash, load_id, version)
SELECT code_hash, id, assignment_version FROM loads WHERE id = $1 AND code_hash IS NOT NULL
ON CONFLICT (code_hash) DO NOTHING"""

# A reassignment's approval state ($2: NULL when none is needed) and what it replaced.
SET_SWAP = """
UPDATE loads SET approval = $2, approval_reason = NULL, previous_vehicle_id = $3,
                 previous_driver_user_id = $4
WHERE id = $1"""

LOAD_FOR_DECISION = "SELECT * FROM loads WHERE id = $1 FOR UPDATE"

JOB_OF_LOAD = "SELECT * FROM jobs WHERE id = $1"

DECIDE_SWAP = """
UPDATE loads SET approval = $2, approval_reason = $3, updated_at = now() WHERE id = $1"""

# What `load.reassigned` and the drivers' notices name.
LOAD_SWAP_FACTS = """
SELECT l.*, v.plate, v.plate_display FROM loads l JOIN vehicles v ON v.id = l.vehicle_id WHERE l.id = $1"""

# The carrier's loads of the job that still stand (a carrier that failed the job left cancelled ones).
LIVE_LOADS_OF_CARRIER = """
SELECT id FROM loads WHERE job_id = $1 AND carrier_org_id = $2 AND status <> 'cancelled'"""

# New loads number on after those of an earlier carrier.
LAST_SEQ = "SELECT coalesce(max(seq), 0) FROM loads WHERE job_id = $1"

# -- an award withdrawn: the carrier's loads that still stand, locked --------------------------

LIVE_LOADS_FOR_UPDATE = """
SELECT * FROM loads WHERE job_id = $1 AND carrier_org_id = $2 AND status <> 'cancelled'
ORDER BY seq FOR UPDATE"""

CANCEL_LOADS = """
UPDATE loads SET status = 'cancelled', updated_at = now()
WHERE job_id = $1 AND carrier_org_id = $2 AND status <> 'cancelled'"""

DELETE_PLAN = "DELETE FROM load_plans WHERE job_id = $1 AND carrier_org_id = $2"
