"""Gate SQL."""

CALENDAR = "SELECT * FROM site_calendars WHERE site_id = $1"

UPSERT_CALENDAR = """
INSERT INTO site_calendars (site_id, slot_minutes, places_per_slot, min_lead_minutes, max_lead_days,
                            cutoff_minutes,
                            grace_minutes, late_tolerance_minutes, closed_dates)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (site_id) DO UPDATE SET slot_minutes = EXCLUDED.slot_minutes,
    places_per_slot = EXCLUDED.places_per_slot, min_lead_minutes = EXCLUDED.min_lead_minutes,
    max_lead_days = EXCLUDED.max_lead_days, cutoff_minutes = EXCLUDED.cutoff_minutes,
    grace_minutes = EXCLUDED.grace_minutes, late_tolerance_minutes = EXCLUDED.late_tolerance_minutes,
    closed_dates = EXCLUDED.closed_dates, updated_at = now()"""

ACTIVE_DOCKS = "SELECT id, name, vehicle_types FROM docks WHERE site_id = $1 AND active ORDER BY name"

# A load with what booking and check-in need: its job's origin site, window and vehicle type.
# $2: the carrier organization; $3: the driver (NULL for the carrier's staff).
LOAD_FOR_GATE = """
SELECT l.*, lower(l.pickup_window) AS window_from, upper(l.pickup_window) AS window_until,
       j.origin_site_id AS site_id, j.vehicle_type, s.timezone, s.opening_hours, s.geofence,
       s.name AS site_name,
       v.plate_display AS plate
FROM loads l JOIN jobs j ON j.id = l.job_id JOIN sites s ON s.id = j.origin_site_id
JOIN vehicles v ON v.id = l.vehicle_id
WHERE l.id = $1 AND l.carrier_org_id = $2 AND ($3::uuid IS NULL OR l.driver_user_id = $3)"""

# The organizations a load's gate events go to: its job's parties (poster, shipper, consignee) and
# its carrier; dispatch.parties.party_orgs reads these names.
LOAD_PARTIES = """
SELECT j.poster_org_id, j.shipper_org_id, j.consignee_org_id, l.carrier_org_id
FROM loads l JOIN jobs j ON j.id = l.job_id WHERE l.id = $1"""

LOCK_LOAD = "SELECT status FROM loads WHERE id = $1 FOR UPDATE"

# The goods owner's approval of the load's swapped truck or driver (NULL: none needed).
LOAD_APPROVAL = "SELECT approval FROM loads WHERE id = $1"

SET_LOAD_STATUS = "UPDATE loads SET status = $2, updated_at = now() WHERE id = $1"

SLOT_USAGE = """
SELECT slot_start, booked FROM slot_usage WHERE site_id = $1 AND slot_start >= $2 AND slot_start < $3"""

# Take a place: the conditional upsert is the capacity check. When the slot is full nothing is
# returned; concurrent bookings of one slot queue on its row lock, so it never overfills.
TAKE_PLACE = """
INSERT INTO slot_usage (site_id, slot_start, places, booked) VALUES ($1, $2, $3, 1)
ON CONFLICT (site_id, slot_start) DO UPDATE SET booked = slot_usage.booked + 1
WHERE slot_usage.booked < slot_usage.places
RETURNING booked"""

RELEASE_PLACE = (
    "UPDATE slot_usage SET booked = booked - 1 WHERE site_id = $1 AND slot_start = $2 AND booked > 0"
)

LIVE_BOOKING = (
    "SELECT * FROM slot_bookings WHERE load_id = $1 AND status IN ('booked', 'checked_in') FOR UPDATE"
)

INSERT_BOOKING = """
INSERT INTO slot_bookings (load_id, site_id, slot_start, slot_end, booked_by) VALUES ($1, $2, $3, $4, $5)
RETURNING *"""

MOVE_BOOKING = """
UPDATE slot_bookings SET slot_start = $2, slot_end = $3, updated_at = now() WHERE id = $1 RETURNING *"""

SET_BOOKING_STATUS = "UPDATE slot_bookings SET status = $2, updated_at = now() WHERE id = $1"

# The no-show claim: bookings with no check-in past slot end + the site's grace.
CLAIM_NO_SHOWS = """
SELECT b.*, l.carrier_org_id, l.driver_user_id FROM slot_bookings b
JOIN site_calendars c ON c.site_id = b.site_id
JOIN loads l ON l.id = b.load_id
WHERE b.status = 'booked' AND b.slot_end + make_interval(mins => c.grace_minutes) < clock_timestamp()
ORDER BY b.slot_end
LIMIT $1
FOR UPDATE OF b SKIP LOCKED"""

INSERT_TICKET = """
INSERT INTO queue_tickets (site_id, load_id, booking_id, slot_start, arrived_at, arrival, checked_in_by,
                           vehicle_type)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING id"""

_TICKET_COLUMNS = """
SELECT t.*, v.plate_display AS plate, u.name AS driver_name, d.name AS dock_name, l.driver_user_id
FROM queue_tickets t
JOIN loads l ON l.id = t.load_id
JOIN vehicles v ON v.id = l.vehicle_id
LEFT JOIN users u ON u.id = l.driver_user_id
LEFT JOIN docks d ON d.id = t.dock_id"""

# Everyone in the yard at a site: waiting or at a dock.
SITE_TICKETS = _TICKET_COLUMNS + " WHERE t.site_id = $1 AND t.status <> 'departed'"

# Calls to the docks of one site ($1) take turns on this lock, held to the end of the call's
# transaction: the next call's statements see this one's committed, so two calls never choose the same
# truck. Only calls take it (a check-in inserts a ticket, which no call waits for); the waiting
# tickets themselves are not locked. Why this and not SKIP LOCKED: dispatch/gate/README.md.
LOCK_SITE_CALLS = "SELECT pg_advisory_xact_lock(hashtextextended('gate calls:' || $1::uuid::text, 0))"

SITE_WAITING = """
SELECT id, arrived_at, slot_start, vehicle_type FROM queue_tickets
WHERE site_id = $1 AND status = 'waiting'"""

# What a waiting ticket's place depends on: the order keys of the site's tickets in the yard, and
# when those at docks were called (no joins: a phone's ticket does not need the whole board).
SITE_QUEUE_KEYS = """
SELECT id, status, arrived_at, slot_start, vehicle_type, called_at FROM queue_tickets
WHERE site_id = $1 AND status <> 'departed'"""

TICKET = _TICKET_COLUMNS + " WHERE t.id = $1"

LIVE_TICKET_OF_LOAD = _TICKET_COLUMNS + " WHERE t.load_id = $1 AND t.status <> 'departed'"

TICKET_AT_OWN_SITE_FOR_UPDATE = """
SELECT t.* FROM queue_tickets t JOIN sites s ON s.id = t.site_id
WHERE t.id = $1 AND s.org_id = $2 FOR UPDATE OF t"""

CALL = """
UPDATE queue_tickets SET status = 'called', dock_id = $2, called_at = clock_timestamp()
WHERE id = $1 AND status = 'waiting'"""

ADVANCE = """
UPDATE queue_tickets SET status = $2,
    loading_started_at = CASE WHEN $2 = 'loading' THEN clock_timestamp() ELSE loading_started_at END,
    loading_completed_at = CASE WHEN $2 = 'loaded' THEN clock_timestamp() ELSE loading_completed_at END,
    departed_at = CASE WHEN $2 = 'departed' THEN clock_timestamp() ELSE departed_at END
WHERE id = $1"""

# Service times of the site's latest loadings: the wait estimate's S.
RECENT_SERVICE = """
SELECT loading_completed_at - called_at AS took FROM queue_tickets
WHERE site_id = $1 AND loading_completed_at IS NOT NULL
ORDER BY loading_completed_at DESC LIMIT 20"""

OWN_SITE = "SELECT id, name, timezone FROM sites WHERE id = $2 AND org_id = $1"

DOCK_OF_SITE = "SELECT id, name, vehicle_types FROM docks WHERE id = $2 AND site_id = $1 AND active"

# The pickup sites of a driver's loads that are still ahead of departure.
DRIVER_SITES = """
SELECT DISTINCT j.origin_site_id FROM loads l JOIN jobs j ON j.id = l.job_id
WHERE l.driver_user_id = $1 AND l.carrier_org_id = $2
  AND l.status IN ('assigned', 'booked', 'at_gate', 'loading')"""

DRIVER_TICKETS = """
SELECT t.id FROM queue_tickets t JOIN loads l ON l.id = t.load_id
WHERE l.driver_user_id = $1 AND l.carrier_org_id = $2 AND t.status <> 'departed'
ORDER BY t.arrived_at"""

DOCK_BUSY = """
SELECT EXISTS (SELECT 1 FROM queue_tickets
               WHERE dock_id = $1 AND status IN ('called', 'loading', 'loaded'))"""

# -- the driver's phone -----------------------------------------------------------------------

# The driver's ($1, of carrier $2) loads, soonest first, with all the phone shows in one query: the
# load's own columns (those loads' LOAD columns give a Load), its job's reference and cargo, the
# pickup site, the destination, its latest standing booking, and its truck's ticket in the yard.
# $3 NULL: the loads still to do (not received or cancelled); else that one load, whatever its state.
DRIVER_ASSIGNMENTS = """
SELECT l.id, l.job_id, l.seq, l.status, l.trip, l.bulk_kg, l.items, l.weight_kg, l.volume_m3,
       lower(l.pickup_window) AS pickup_from, upper(l.pickup_window) AS pickup_until,
       l.assignment_version, l.carrier_org_id, l.driver_user_id, l.approval, l.approval_reason,
       jsonb_build_object('id', v.id, 'plate', v.plate_display) AS vehicle,
       jsonb_build_object('user_id', u.id, 'name', u.name, 'phone', d.phone) AS driver,
       j.reference AS job_reference, j.cargo,
       s.id AS site_id, s.name AS site_name, s.address AS site_address, s.lon AS site_lon,
       s.lat AS site_lat, s.geofence, s.timezone, s.opening_hours,
       j.destination_site_id, ds.name AS destination_name, j.destination_address,
       j.destination_lon, j.destination_lat,
       b.id AS booking_id, b.site_id AS booking_site_id, b.slot_start, b.slot_end,
       b.status AS booking_status,
       t.status AS ticket_status, dk.name AS dock_name
FROM loads l
JOIN jobs j ON j.id = l.job_id
JOIN sites s ON s.id = j.origin_site_id
LEFT JOIN sites ds ON ds.id = j.destination_site_id
JOIN vehicles v ON v.id = l.vehicle_id
JOIN users u ON u.id = l.driver_user_id
LEFT JOIN driver_profiles d ON d.org_id = l.carrier_org_id AND d.user_id = l.driver_user_id
LEFT JOIN LATERAL (
    SELECT * FROM slot_bookings WHERE load_id = l.id AND status IN ('booked', 'checked_in', 'served')
    ORDER BY created_at DESC LIMIT 1
) b ON true
LEFT JOIN queue_tickets t ON t.load_id = l.id AND t.status <> 'departed'
LEFT JOIN docks dk ON dk.id = t.dock_id
WHERE l.driver_user_id = $1 AND l.carrier_org_id = $2
  AND ($3::uuid IS NULL AND l.status NOT IN ('received', 'cancelled') OR l.id = $3)
ORDER BY lower(l.pickup_window), l.seq"""

# The booking that says when a load is (or was) picked up: the live one, or the one served once the
# truck left (the latest; cancelled and no-show ones do not stand).
STANDING_BOOKING = """
SELECT * FROM slot_bookings WHERE load_id = $1 AND status IN ('booked', 'checked_in', 'served')
ORDER BY created_at DESC LIMIT 1"""

# What a message about a load names: its number's parts, its pickup site; and its carrier.
LOAD_FOR_MESSAGE = """
SELECT l.carrier_org_id, l.job_id, l.seq, j.reference AS job_reference, s.name AS site_name
FROM loads l JOIN jobs j ON j.id = l.job_id JOIN sites s ON s.id = j.origin_site_id WHERE l.id = $1"""

# Taken before a message for the driver ($1) gets its id, and held to the commit: the driver's
# messages commit in the order of their ids (see migration 0012).
LOCK_INBOX = """
INSERT INTO driver_inboxes (user_id, messages) VALUES ($1, 1)
ON CONFLICT (user_id) DO UPDATE SET messages = driver_inboxes.messages + 1"""

INSERT_MESSAGE = """
INSERT INTO driver_messages (org_id, user_id, load_id, kind, key, params, text, dock)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING id, kind, load_id, dock, text, key, params, created_at"""

DRIVER_MESSAGES = """
SELECT id, kind, load_id, dock, text, key, params, created_at FROM driver_messages
WHERE user_id = $1 AND org_id = $2 AND id > $3
ORDER BY id LIMIT $4"""

# -- the day's appointments at a site ---------------------------------------------------------

# Who comes to site $1 between $2 and $3 (the site's day), in one query, by time:
# - pickups (the job's origin is the site): loads with a standing booking whose slot starts that day,
#   or whose truck checked in that day (a walk-in has a ticket and no booking); their latest ticket
#   there says where they stand in the yard;
# - deliveries (the job's destination is the site): loads on the road or arrived, by the day of
#   their arrival, else their ETA (tracking's), else their departure.
# No prices: nothing of the job's money is read.
SITE_APPOINTMENTS = """
WITH pickups AS (
    SELECT l.id AS load_id, 'pickup' AS direction,
           CASE WHEN t.id IS NULL AND b.id IS NOT NULL OR t.booking_id IS NOT NULL THEN 'booked'
                ELSE 'walk_in' END AS kind,
           CASE WHEN t.id IS NULL OR t.booking_id IS NOT NULL THEN b.slot_start END AS slot_start,
           CASE WHEN t.id IS NULL OR t.booking_id IS NOT NULL THEN b.slot_end END AS slot_end,
           coalesce(CASE t.status WHEN 'waiting' THEN 'checked_in' ELSE t.status END, 'booked') AS state,
           -- On its way here (the driver started towards the pickup), until it checks in.
           CASE WHEN t.id IS NULL THEN la.eta_at END AS eta,
           coalesce(t.id IS NULL AND la.late_alerted, false) AS late,
           t.id AS ticket_id, t.arrived_at,
           coalesce(b.slot_start, t.arrived_at) AS at
    FROM loads l
    JOIN jobs j ON j.id = l.job_id
    LEFT JOIN load_approach la ON la.load_id = l.id
    LEFT JOIN LATERAL (
        SELECT * FROM slot_bookings WHERE load_id = l.id AND site_id = $1
                                     AND status IN ('booked', 'checked_in', 'served')
        ORDER BY created_at DESC LIMIT 1
    ) b ON true
    LEFT JOIN LATERAL (
        SELECT * FROM queue_tickets WHERE load_id = l.id AND site_id = $1 ORDER BY arrived_at DESC LIMIT 1
    ) t ON true
    WHERE j.origin_site_id = $1 AND l.status <> 'cancelled'
      AND (b.slot_start >= $2 AND b.slot_start < $3 OR t.arrived_at >= $2 AND t.arrived_at < $3)
), deliveries AS (
    SELECT l.id AS load_id, 'delivery' AS direction, 'walk_in' AS kind,
           NULL::timestamptz AS slot_start, NULL::timestamptz AS slot_end,
           CASE l.status WHEN 'in_transit' THEN 'on_the_way' ELSE l.status END AS state,
           CASE WHEN l.status = 'in_transit' THEN lt.eta_at END AS eta,
           l.status = 'in_transit' AND lt.late_alerted AS late, NULL::uuid AS ticket_id,
           lt.arrived_at, coalesce(lt.arrived_at, lt.eta_at, lt.departed_at) AS at
    FROM loads l
    JOIN jobs j ON j.id = l.job_id
    JOIN load_tracking lt ON lt.load_id = l.id
    WHERE j.destination_site_id = $1 AND l.status IN ('in_transit', 'arrived', 'received')
      AND coalesce(lt.arrived_at, lt.eta_at, lt.departed_at) >= $2
      AND coalesce(lt.arrived_at, lt.eta_at, lt.departed_at) < $3
)
SELECT a.*, l.job_id, l.seq, j.reference AS job_reference,
       l.carrier_org_id, c.name AS carrier_name, v.id AS vehicle_id, v.plate_display AS plate,
       u.id AS driver_user_id, u.name AS driver_name
FROM (SELECT * FROM pickups UNION ALL SELECT * FROM deliveries) a
JOIN loads l ON l.id = a.load_id
JOIN jobs j ON j.id = l.job_id
JOIN organizations c ON c.id = l.carrier_org_id
LEFT JOIN vehicles v ON v.id = l.vehicle_id AND v.org_id = l.carrier_org_id
LEFT JOIN users u ON u.id = l.driver_user_id
ORDER BY a.at, l.job_id, l.seq"""

# -- an award withdrawn -----------------------------------------------------------------------

# The yard's live tickets of a job's loads, locked before the loads (as a dock's advance does:
# ticket, then load), so a withdrawal and a loading start never deadlock.
LIVE_TICKETS_OF_JOB_FOR_UPDATE = """
SELECT t.id FROM queue_tickets t JOIN loads l ON l.id = t.load_id
WHERE l.job_id = $1 AND t.status <> 'departed'
FOR UPDATE OF t"""

# A truck of a withdrawn load waiting or called to a dock leaves the queue (and frees its dock).
SEND_AWAY = """
DELETE FROM queue_tickets WHERE load_id = $1 AND status IN ('waiting', 'called') RETURNING site_id"""
