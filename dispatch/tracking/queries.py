"""Tracking SQL."""

# Whether the device token in the placeholder still authenticates (not revoked, its user enabled).
# The ingest route's principal may come from the auth cache (dispatch.accounts.auth), so every
# statement that reads or stores for a batch checks the token itself.
_DEVICE_TOKEN_VALID = """EXISTS (
    SELECT 1 FROM device_tokens d JOIN users u ON u.id = d.user_id AND u.disabled_at IS NULL
    WHERE d.id = {} AND d.revoked_at IS NULL)"""

# The loads a driver's batch goes to, with their trip state and route, while the device token $4 is
# valid. $3 NULL: every load of the driver in transit or arrived; else that load alone. Read without
# a lock for the one-statement path (STORE_BATCH checks that nothing moved meanwhile). The columns
# are the fields of trip_row.Trip, by name.
READ_DRIVER_TRIPS = """
SELECT l.id AS load_id, l.status, l.job_id, l.carrier_org_id,
       j.shipper_org_id, j.consignee_org_id, j.poster_org_id, j.deliver_by,
       s.lon AS origin_lon, s.lat AS origin_lat, s.geofence::text AS origin_fence,
       j.destination_lon, j.destination_lat, j.destination_geofence::text AS destination_fence,
       t.departed_at, t.ended_at, t.last_seq, t.points_total,
       t.last_recorded_at, t.last_lon, t.last_lat, t.last_accuracy_m, t.last_speed_mps,
       t.last_heading_deg, t.speed_mps, t.eta_at, t.remaining_m, t.progress,
       t.left_origin_at, t.arrived_at, t.still_lon, t.still_lat, t.still_since, t.stop_alerted,
       t.late_alerted, t.outside_count, t.off_route, j.planned_route::text AS planned_route
FROM loads l
JOIN load_tracking t ON t.load_id = l.id
JOIN jobs j ON j.id = l.job_id
JOIN sites s ON s.id = j.origin_site_id
WHERE l.driver_user_id = $1 AND l.carrier_org_id = $2
  AND CASE WHEN $3::uuid IS NULL THEN l.status IN ('in_transit', 'arrived') ELSE l.id = $3 END
  AND """ + _DEVICE_TOKEN_VALID.format("$4")
# The same with the trip rows locked, for the locked transaction: batches for one load take turns,
# so seq is given in commit order, and a receipt (which takes the same lock) is either before a
# batch (the batch is refused) or after it (the points are part of the trail).
LOCK_DRIVER_TRIPS = READ_DRIVER_TRIPS + "\nORDER BY l.id\nFOR UPDATE OF t"

# The driver's trip that ended last (in the past day): a phone still posting for it is told so.
DRIVER_LAST_ENDED_TRIP = """
SELECT t.load_id, t.ended_at FROM load_tracking t JOIN loads l ON l.id = t.load_id
WHERE l.driver_user_id = $1 AND l.carrier_org_id = $2 AND t.ended_at > now() - interval '1 day'
ORDER BY t.ended_at DESC LIMIT 1"""

# Why a named load takes no points: is it the driver's at all, and in which state?
DRIVER_LOAD_STATUS = """
SELECT status FROM loads WHERE id = $1 AND driver_user_id = $2 AND carrier_org_id = $3"""

# Store the batch's new points (those whose recorded_at the load does not have yet), numbered on
# from the load's last seq in time order; returns what was stored. The caller holds the trip lock,
# so nobody else numbers this load's points meanwhile; ON CONFLICT is only a safety net.
INSERT_POINTS = """
WITH incoming AS (
    SELECT * FROM unnest($3::timestamptz[], $4::float8[], $5::float8[], $6::real[], $7::real[],
                         $8::real[], $9::smallint[], $10::boolean[])
        AS i(recorded_at, lon, lat, accuracy_m, speed_mps, heading_deg, battery_pct, moving)
),
fresh AS (
    -- Not stored before (a retry, or a point the phone sent twice).
    SELECT i.*, row_number() OVER (ORDER BY i.recorded_at) AS n
    FROM incoming i
    WHERE NOT EXISTS (SELECT 1 FROM positions p WHERE p.load_id = $1 AND p.recorded_at = i.recorded_at)
)
INSERT INTO positions (load_id, recorded_at, seq, lon, lat, accuracy_m, speed_mps, heading_deg,
                       battery_pct, moving)
SELECT $1, recorded_at, $2 + n, lon, lat, accuracy_m, speed_mps, heading_deg, battery_pct, moving
FROM fresh
ON CONFLICT DO NOTHING
RETURNING seq, recorded_at, lon, lat, accuracy_m, speed_mps, heading_deg"""

# The trip state after a batch, from `s`: the JSON object of trip_row.TripColumns read as a
# load_tracking row, column by name (json_populate_record). The ETA's time is bumped only with a new
# ETA.
_SET_TRIP_STATE = """
        last_recorded_at = s.last_recorded_at, last_lon = s.last_lon, last_lat = s.last_lat,
        last_accuracy_m = s.last_accuracy_m, last_speed_mps = s.last_speed_mps,
        last_heading_deg = s.last_heading_deg, speed_mps = s.speed_mps,
        eta_at = s.eta_at, remaining_m = s.remaining_m, progress = s.progress,
        eta_computed_at = CASE WHEN s.eta_at IS NULL THEN t.eta_computed_at ELSE now() END,
        left_origin_at = s.left_origin_at, arrived_at = s.arrived_at,
        still_lon = s.still_lon, still_lat = s.still_lat, still_since = s.still_since,
        stop_alerted = s.stop_alerted,
        late_alerted = s.late_alerted, outside_count = s.outside_count, off_route = s.off_route"""

# The locked road's trip update: $2 the new last seq, $3 the number of points stored, $4 the state.
UPDATE_TRIP = (
    """
UPDATE load_tracking t SET
    last_seq = $2, points_total = t.points_total + $3,"""
    + _SET_TRIP_STATE
    + """
FROM json_populate_record(NULL::load_tracking, $4::json) AS s
WHERE t.load_id = $1"""
)

# A whole batch in one statement (without BEGIN/COMMIT round trips when the batch raises no event),
# for the common case: one load, every point new. Optimistic: the trip row read by
# READ_DRIVER_TRIPS must be unchanged ($2 still its last seq, not ended) and none of the points
# stored yet; then the trip state moves on, the points are stored numbered $2 + 1 … in the order
# given (time order), and the payloads are published, all or nothing (stored = 0 when the check
# failed: the caller falls back to the locked transaction). A concurrent batch or receipt holds the
# row lock: the UPDATE waits for it, then re-checks last_seq and ended_at on the new row version.
# $3 … $10 the points as named arrays, $11 their number, $12 the trip state (as UPDATE_TRIP's $4),
# $13 the channel, $14 the payloads (in order: a function scan of unnest returns the array's order),
# $15 … $17 the driver, carrier and device token. The payloads are published with pg_notify: only
# for a broker that publishes in SQL (Broker.publishes_in_sql).
STORE_BATCH = """
WITH incoming AS (
    SELECT * FROM unnest($3::timestamptz[], $4::float8[], $5::float8[], $6::real[], $7::real[],
                         $8::real[], $9::smallint[], $10::boolean[]) WITH ORDINALITY
        AS i(recorded_at, lon, lat, accuracy_m, speed_mps, heading_deg, battery_pct, moving, n)
),
trip AS (
    UPDATE load_tracking t SET
        last_seq = $2::bigint + $11::bigint, points_total = t.points_total + $11::bigint,{set_state}
    FROM json_populate_record(NULL::load_tracking, $12::json) AS s
    WHERE t.load_id = $1 AND t.last_seq = $2::bigint AND t.ended_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM positions p WHERE p.load_id = $1 AND p.recorded_at = ANY($3))
      -- What READ_DRIVER_TRIPS checks, for a trip row the caller kept from its last batch: the load
      -- still the driver's ($15) in the carrier ($16), the device token $17 still valid.
      AND EXISTS (SELECT 1 FROM loads l WHERE l.id = $1 AND l.driver_user_id = $15 AND l.carrier_org_id = $16)
      AND {token_valid}
    RETURNING t.load_id
),
stored AS (
    INSERT INTO positions (load_id, recorded_at, seq, lon, lat, accuracy_m, speed_mps, heading_deg,
                           battery_pct, moving)
    SELECT $1, recorded_at, $2::bigint + n, lon, lat, accuracy_m, speed_mps, heading_deg, battery_pct,
           moving
    FROM incoming WHERE EXISTS (SELECT 1 FROM trip)
    RETURNING 1
),
published AS (
    SELECT pg_notify($13, payload) FROM unnest($14::text[]) AS payload WHERE EXISTS (SELECT 1 FROM trip)
)
SELECT (SELECT count(*) FROM stored) AS stored, (SELECT count(*) FROM published) AS published""".format(  # noqa: S608 - constants only
    set_state=_SET_TRIP_STATE, token_valid=_DEVICE_TOKEN_VALID.format("$17")
)

SET_ARRIVED = """
UPDATE loads SET status = 'arrived', updated_at = now() WHERE id = $1 AND status = 'in_transit'"""

START_TRIP = """
INSERT INTO load_tracking (load_id, departed_at) VALUES ($1, $2)
ON CONFLICT (load_id) DO NOTHING"""

# -- the drive to the pickup (approach.py) -----------------------------------------------------

# The driver's load, locked, for starting towards its pickup.
LOCK_DRIVER_LOAD = """
SELECT id, status FROM loads WHERE id = $1 AND driver_user_id = $2 AND carrier_org_id = $3 FOR UPDATE"""

START_APPROACH = """
INSERT INTO load_approach (load_id, started_at) VALUES ($1, now()) ON CONFLICT (load_id) DO NOTHING"""

# A load's approach with its booked slot at the pickup site (the standing booking, not yet checked in).
_APPROACH_SLOT = """(SELECT b.slot_start FROM slot_bookings b
        WHERE b.load_id = l.id AND b.site_id = j.origin_site_id AND b.status = 'booked')"""

APPROACH = (
    """
SELECT a.load_id, a.started_at, a.eta_at, a.remaining_m, a.late_alerted, a.last_lon, a.last_lat,
       a.last_recorded_at, a.last_accuracy_m, """
    + _APPROACH_SLOT
    + """ AS slot_start
FROM load_approach a JOIN loads l ON l.id = a.load_id JOIN jobs j ON j.id = l.job_id
WHERE a.load_id = $1"""
)

# The driver's loads on their way to the pickup ($3 NULL: every one; else that load), locked: a
# batch for them when none is in transit. Only before the check-in at the gate (assigned, booked).
LOCK_DRIVER_APPROACHES = (
    """
SELECT a.*, l.status, l.job_id, l.carrier_org_id, j.shipper_org_id, j.consignee_org_id,
       j.poster_org_id, s.lon AS site_lon, s.lat AS site_lat, """
    + _APPROACH_SLOT
    + """ AS slot_start
FROM loads l
JOIN load_approach a ON a.load_id = l.id
JOIN jobs j ON j.id = l.job_id
JOIN sites s ON s.id = j.origin_site_id
WHERE l.driver_user_id = $1 AND l.carrier_org_id = $2 AND l.status IN ('assigned', 'booked')
  AND ($3::uuid IS NULL OR l.id = $3)
ORDER BY l.id
FOR UPDATE OF a"""
)

# The approach's new points (those the load does not have yet); returns what was stored.
INSERT_APPROACH_POINTS = """
INSERT INTO approach_positions (load_id, recorded_at, lon, lat, accuracy_m, speed_mps, heading_deg,
                                battery_pct, moving)
SELECT $1, * FROM unnest($2::timestamptz[], $3::float8[], $4::float8[], $5::real[], $6::real[],
                         $7::real[], $8::smallint[], $9::boolean[])
ON CONFLICT DO NOTHING
RETURNING recorded_at, lon, lat, accuracy_m"""

UPDATE_APPROACH = """
UPDATE load_approach SET
    points_total = points_total + $2, last_recorded_at = $3, last_lon = $4, last_lat = $5,
    last_accuracy_m = $6, speed_mps = $7, eta_at = $8, remaining_m = $9,
    eta_computed_at = CASE WHEN $8::timestamptz IS NULL THEN eta_computed_at ELSE now() END,
    late_alerted = $10
WHERE load_id = $1"""

# -- watching ---------------------------------------------------------------------------------

# The job as a watcher sees it, when the organization ($2) is one of its parties.
JOB_FOR_PARTY = """
SELECT j.id, j.reference, j.status, j.poster_org_id, j.shipper_org_id, j.consignee_org_id,
       j.carrier_org_id,
       s.name AS origin_name, s.address AS origin_address, s.lon AS origin_lon, s.lat AS origin_lat,
       s.geofence AS origin_fence, s.timezone AS origin_timezone,
       j.destination_address, j.destination_lon, j.destination_lat, j.destination_geofence,
       d.name AS destination_name, d.timezone AS destination_timezone, j.planned_route
FROM jobs j
JOIN sites s ON s.id = j.origin_site_id
LEFT JOIN sites d ON d.id = j.destination_site_id
WHERE j.id = $1
  AND ($2::uuid IS NULL OR $2 IN (j.poster_org_id, j.shipper_org_id, j.consignee_org_id, j.carrier_org_id))"""

# The job of a load, for the same check.
JOB_OF_LOAD = "SELECT job_id FROM loads WHERE id = $1"

# The loads a watcher follows: one, or all of the job's that are not cancelled.
WATCHED_LOADS = (
    """
SELECT l.id, l.seq, l.status, v.plate_display AS plate, t.*,
       a.started_at AS approach_started_at, a.eta_at AS approach_eta_at,
       a.remaining_m AS approach_remaining_m, a.late_alerted AS approach_late,
       a.last_lon AS approach_last_lon, a.last_lat AS approach_last_lat,
       a.last_recorded_at AS approach_last_at, a.last_accuracy_m AS approach_last_accuracy_m, """
    + _APPROACH_SLOT
    + """ AS approach_slot_start
FROM loads l
JOIN jobs j ON j.id = l.job_id
JOIN vehicles v ON v.id = l.vehicle_id
LEFT JOIN load_tracking t ON t.load_id = l.id
LEFT JOIN load_approach a ON a.load_id = l.id
WHERE l.job_id = $1 AND l.status <> 'cancelled' AND ($2::uuid IS NULL OR l.id = $2)
ORDER BY l.seq"""
)

# A load's trail in time order, for the snapshot.
TRAIL = "SELECT lon, lat FROM positions WHERE load_id = $1 ORDER BY recorded_at"

# The newest fix by the phone's time.
LAST_POINT = """
SELECT seq, lon, lat, recorded_at, accuracy_m, speed_mps, heading_deg FROM positions
WHERE load_id = $1 ORDER BY recorded_at DESC LIMIT 1"""

# Points stored after a cursor, in seq order (resume, catch-up, paging).
POINTS_AFTER = """
SELECT seq, lon, lat, recorded_at, accuracy_m, speed_mps, heading_deg FROM positions
WHERE load_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"""

# The tracking timeline of a load: its trip events from the outbox.
TIMELINE = """
SELECT type, occurred_at AS at, data FROM events
WHERE subject_type = 'load' AND subject_id = $1 AND type = ANY($2::text[])
ORDER BY id"""

# -- share links ------------------------------------------------------------------------------

INSERT_SHARE_LINK = """
INSERT INTO share_links (job_id, load_id, org_id, label, token_hash, expires_at, created_by)
VALUES ($1, $2, $3, $4, $5, now() + make_interval(mins => $6), $7)
RETURNING id, job_id, load_id, label, expires_at, created_at, revoked_at"""

SHARE_LINKS = """
SELECT id, job_id, load_id, label, expires_at, created_at, revoked_at FROM share_links
WHERE job_id = $1 AND org_id = $2 ORDER BY created_at DESC"""

REVOKE_SHARE_LINK = """
UPDATE share_links SET revoked_at = coalesce(revoked_at, now())
WHERE id = $1 AND job_id = $2 AND org_id = $3
RETURNING id, job_id, load_id, label, expires_at, created_at, revoked_at"""

SHARE_LINK_BY_TOKEN = """
SELECT id, job_id, load_id, expires_at, revoked_at FROM share_links WHERE token_hash = $1"""

LOAD_OF_JOB = "SELECT id FROM loads WHERE id = $1 AND job_id = $2"

# -- retention --------------------------------------------------------------------------------

ENSURE_PARTITIONS = """
SELECT ensure_position_partitions((now() AT TIME ZONE 'UTC')::date - 8,
                                  (now() AT TIME ZONE 'UTC')::date + 2)"""

DROP_PARTITIONS = """
SELECT drop_position_partitions((now() AT TIME ZONE 'UTC')::date - $1::integer)"""
