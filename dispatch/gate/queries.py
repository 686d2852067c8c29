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

# A load with what booking and check-in need: its job's origin site, window and vehicle type, the
# site's late tolerance (NULL: no calendar), its job's parties (dispatch.parties.party_orgs reads
# them: whom its gate events concern) and its ticket in the yard (NULL: none).
# $2: the carrier organization; $3: the driver (NULL for the carrier's staff).
LOAD_FOR_GATE = """
SELECT l.*, lower(l.pickup_window) AS window_from, upper(l.pickup_window) AS window_until,
       j.origin_site_id AS site_id, j.vehicle_type, s.timezone, s.opening_hours, s.geofence,
       s.name AS site_name,
       v.plate_display AS plate, c.late_tolerance_minutes,
       j.poster_org_id, j.shipper_org_id, j.consignee_org_id,
       t.id AS live_ticket_id, t.status AS live_ticket_status
FROM loads l JOIN jobs j ON j.id = l.job_id JOIN sites s ON s.id = j.origin_site_id
JOIN vehicles v ON v.id = l.vehicle_id
LEFT JOIN site_calendars c ON c.site_id = j.origin_site_id
LEFT JOIN queue_tickets t ON t.load_id = l.id AND t.status <> 'departed'
WHERE l.id = $1 AND l.carrier_org_id = $2 AND ($3::uuid IS NULL OR l.driver_user_id = $3)"""

# The load locked, with its status and the goods owner's approval of its swapped truck or driver
# (NULL: none needed).
LOCK_LOAD = "SELECT status, approval FROM loads WHERE id = $1 FOR UPDATE"

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

# The no-show claim: bookings with no check-in past slot end + the site's grace, each with its load
# locked too. A check-in locks the load, then checks the booking in; claiming the booking and then
# waiting for the load would be the opposite order (a deadlock, when a truck checks in as its
# booking lapses), so a booking whose load is locked is passed over until the next round (its row
# stays locked until this round commits, as PostgreSQL keeps the locks of a row it then skips: the
# check-in waits for the round, which waits for nothing it holds).
CLAIM_NO_SHOWS = """
SELECT b.*, l.carrier_org_id, l.driver_user_id FROM slot_bookings b
JOIN site_calendars c ON c.site_id = b.site_id
JOIN loads l ON l.id = b.load_id
WHERE b.status = 'booked' AND b.slot_end + make_interval(mins => c.grace_minutes) < clock_timestamp()
ORDER BY b.slot_end
LIMIT $1
FOR UPDATE OF b SKIP LOCKED FOR NO KEY UPDATE OF l SKIP LOCKED"""

# A check-in, in one statement: the load's ($2) ticket at site $1, its booking ($3, if any) checked
# in, the load at the gate, its `load.checked_in` event $10-$15 (events.PendingEvent's order; session
# 23: one round trip fewer); and the site's channel $9 told (NULL: the caller publishes; see
# notifications.in_sql).
ADMIT = """
WITH ticket AS (
    INSERT INTO queue_tickets (site_id, load_id, booking_id, slot_start, arrived_at, arrival,
                               checked_in_by, vehicle_type)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
    RETURNING id
), booking AS (
    UPDATE slot_bookings SET status = 'checked_in', updated_at = now() WHERE id = $3
), load AS (
    UPDATE loads SET status = 'at_gate', updated_at = now() WHERE id = $2
), announced AS (
    INSERT INTO events (type, org_ids, subject_type, subject_id, actor_user_id, data)
    VALUES ($10, $11, $12, $13, $14, $15)
)
SELECT id, (SELECT count(*) FROM (SELECT pg_notify($9, '{}') WHERE $9::text IS NOT NULL) n) AS notified
FROM ticket"""

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


# The queue's order (dispatch/gate/queue.py `order`) as a SQL row key of ticket `{t}`, against a
# `rules` row holding the decision's `now` and the site's late tolerance `tol`: on time with the slot
# begun (0), by slot start; late arrivals and walk-ins (1), by arrival; early ones (2), by slot start;
# then arrival and id (uuid order is the order of its text). Callable: group <> 2.
def _on_time(t: str) -> str:
    return f"({t}.slot_start IS NOT NULL AND {t}.arrived_at <= {t}.slot_start + rules.tol)"


def _group(t: str) -> str:
    return f"CASE WHEN {_on_time(t)} THEN CASE WHEN rules.now >= {t}.slot_start THEN 0 ELSE 2 END ELSE 1 END"


def _order_key(t: str) -> str:
    first = f"CASE WHEN {_on_time(t)} THEN {t}.slot_start ELSE {t}.arrived_at END"
    return f"({_group(t)}, {first}, {t}.arrived_at, {t}.id)"


# The site's ($1) rules at the decision's instant ($2): its late tolerance (15 min without a calendar).
_RULES = """rules AS (
    SELECT $2::timestamptz AS now, make_interval(mins => coalesce(
        (SELECT late_tolerance_minutes FROM site_calendars WHERE site_id = $1), 15)) AS tol
)"""

# Whether the call's dock serves ticket `w`'s vehicle type (no types: every type).
_SERVES = "(cardinality(dock.vehicle_types) = 0 OR w.vehicle_type = ANY (dock.vehicle_types))"

# A call to dock $3 of site $1 (of organization $4) at $2, in one statement: the site and the dock
# are checked, the dock must be free, and the first callable waiting truck in queue order that the dock
# serves is chosen and claimed by a conditional UPDATE (`status = 'waiting'`). The choice is the
# queue order of `_order_key` without sorting the yard: the first on-time truck whose slot has begun
# (by slot start, arrival, id), else the first late one or walk-in (by arrival, id), each the first
# entry of its partial index (migration 0023) that passes the filters. No lock of the site's:
# the claim's row lock is the turn. A call that chose the same truck as one not yet committed waits
# for it at the UPDATE; if that one commits, the truck is no longer waiting and this statement claims
# nothing (`head_id` set, `id` NULL): the caller runs it again, with a new snapshot that sees the
# other's call; if that one rolls back, this one claims the truck. So the result is that of the calls
# one after another, and calls wait only for a call that chose the same truck. Why not SKIP LOCKED:
# dispatch/gate/README.md. Returns one row: `site_found`, the dock (`dock_name` NULL: not found),
# `dock_busy`, `head_id` (NULL: nobody callable for this dock), and the called ticket (TICKET's
# columns) with what the driver's message names. A truck called, the site's channel $5 is told
# (NULL: the caller publishes; see notifications.in_sql).
CALL_NEXT = f"""
WITH {_RULES},
site AS (SELECT id FROM sites WHERE id = $1 AND org_id = $4),
dock AS (
    SELECT d.id, d.name, d.vehicle_types,
           EXISTS (SELECT 1 FROM queue_tickets b
                   WHERE b.dock_id = d.id AND b.status IN ('called', 'loading', 'loaded')) AS busy
    FROM docks d JOIN site ON site.id = d.site_id WHERE d.id = $3 AND d.active
),
head AS (
    SELECT h.id FROM (
        (SELECT w.id, 0 AS g FROM queue_tickets w, rules, dock
         WHERE w.site_id = $1 AND w.status = 'waiting' AND NOT dock.busy
           AND w.slot_start <= rules.now AND {_on_time("w")} AND {_SERVES}
         ORDER BY w.slot_start, w.arrived_at, w.id
         LIMIT 1)
        UNION ALL
        (SELECT w.id, 1 AS g FROM queue_tickets w, rules, dock
         WHERE w.site_id = $1 AND w.status = 'waiting' AND NOT dock.busy
           AND NOT {_on_time("w")} AND {_SERVES}
         ORDER BY w.arrived_at, w.id
         LIMIT 1)
    ) h
    ORDER BY h.g
    LIMIT 1
),
called AS (
    UPDATE queue_tickets t SET status = 'called', dock_id = $3, called_at = clock_timestamp()
    WHERE t.id = (SELECT id FROM head) AND t.status = 'waiting'
    RETURNING t.*
)
SELECT site.id IS NOT NULL AS site_found, dock.name AS dock_name, dock.busy AS dock_busy,
       head.id AS head_id, c.*, v.plate_display AS plate, u.name AS driver_name, l.driver_user_id,
       l.carrier_org_id, l.job_id, l.seq, j.reference AS job_reference, s.name AS site_name,
       (SELECT count(*) FROM (SELECT pg_notify($5, '{{}}') FROM called WHERE $5::text IS NOT NULL) n)
       AS notified
FROM (SELECT 1) one
LEFT JOIN site ON true LEFT JOIN dock ON true LEFT JOIN head ON true LEFT JOIN called c ON true
LEFT JOIN loads l ON l.id = c.load_id
LEFT JOIN jobs j ON j.id = l.job_id
LEFT JOIN sites s ON s.id = c.site_id
LEFT JOIN vehicles v ON v.id = l.vehicle_id
LEFT JOIN users u ON u.id = l.driver_user_id"""  # noqa: S608 - constants only

# One ticket ($1, as TICKET) with everything its place needs, at $2, in one statement: for a waiting
# ticket, its `position` (1 + the waiting tickets before it in queue order) and whether it waits for
# its slot; the site's active docks, its latest service times (queue.mean_service) and when the
# trucks now at its docks were called (queue.estimated_wait).
TICKET_VIEW = f"""
WITH ticket AS (SELECT * FROM queue_tickets WHERE id = $1),
{_RULES.replace("$1", "(SELECT site_id FROM ticket)")}
SELECT t.*, v.plate_display AS plate, u.name AS driver_name, d.name AS dock_name, l.driver_user_id,
       CASE WHEN t.status = 'waiting' THEN 1 + (
           SELECT count(*) FROM queue_tickets w
           WHERE w.site_id = t.site_id AND w.status = 'waiting' AND {_order_key("w")} < {_order_key("t")}
       ) END AS position,
       t.status = 'waiting' AND {_group("t")} = 2 AS waiting_for_slot,
       (SELECT count(*) FROM docks WHERE site_id = t.site_id AND active) AS active_docks,
       (SELECT array_agg(took) FROM (
           SELECT loading_completed_at - called_at AS took FROM queue_tickets
           WHERE site_id = t.site_id AND loading_completed_at IS NOT NULL
           ORDER BY loading_completed_at DESC LIMIT 20) r) AS recent_service,
       (SELECT array_agg(called_at) FROM queue_tickets
        WHERE site_id = t.site_id AND status IN ('called', 'loading', 'loaded') AND called_at IS NOT NULL)
       AS at_docks_since
FROM ticket t CROSS JOIN rules
JOIN loads l ON l.id = t.load_id
JOIN vehicles v ON v.id = l.vehicle_id
LEFT JOIN users u ON u.id = l.driver_user_id
LEFT JOIN docks d ON d.id = t.dock_id"""  # noqa: S608 - constants only

TICKET = _TICKET_COLUMNS + " WHERE t.id = $1"

# A ticket at one of organization $2's sites, locked, with its load's parties (party_orgs).
TICKET_AT_OWN_SITE_FOR_UPDATE = """
SELECT t.*, j.poster_org_id, j.shipper_org_id, j.consignee_org_id, l.carrier_org_id
FROM queue_tickets t JOIN sites s ON s.id = t.site_id
JOIN loads l ON l.id = t.load_id JOIN jobs j ON j.id = l.job_id
WHERE t.id = $1 AND s.org_id = $2 FOR UPDATE OF t"""

# Ticket $1 moves on to $2, in one statement: its load's status becomes $3 (NULL: unchanged) and its
# booking's $4 (NULL: unchanged), the site's channel $5 is told (NULL: the caller publishes; see
# notifications.in_sql), and its event $6-$11 (events.PendingEvent's order) is written with the
# change (one round trip instead of two); the ticket as it is now, as TICKET.
ADVANCE = """
WITH t AS (
    UPDATE queue_tickets SET status = $2,
        loading_started_at = CASE WHEN $2 = 'loading' THEN clock_timestamp() ELSE loading_started_at END,
        loading_completed_at = CASE WHEN $2 = 'loaded' THEN clock_timestamp() ELSE loading_completed_at END,
        departed_at = CASE WHEN $2 = 'departed' THEN clock_timestamp() ELSE departed_at END
    WHERE id = $1
    RETURNING *
), load AS (
    UPDATE loads SET status = $3, updated_at = now()
    WHERE $3::text IS NOT NULL AND id = (SELECT load_id FROM t)
), booking AS (
    UPDATE slot_bookings SET status = $4, updated_at = now()
    WHERE $4::text IS NOT NULL AND id = (SELECT booking_id FROM t)
), announced AS (
    INSERT INTO events (type, org_ids, subject_type, subject_id, actor_user_id, data)
    SELECT $6::text, $7::uuid[], $8::text, $9::text, $10::uuid, $11::jsonb FROM t
)
SELECT t.*, v.plate_display AS plate, u.name AS driver_name, d.name AS dock_name, l.driver_user_id,
       (SELECT count(*) FROM (SELECT pg_notify($5, '{}') WHERE $5::text IS NOT NULL) n) AS notified
FROM t
JOIN loads l ON l.id = t.load_id
JOIN vehicles v ON v.id = l.vehicle_id
LEFT JOIN users u ON u.id = l.driver_user_id
LEFT JOIN docks d ON d.id = t.dock_id"""

# The one-statement moves' answer (ADVANCE_AT_OWN_SITE, DEPART): the ticket's status as the
# statement's snapshot saw it, and the ticket as it is now, as TICKET (all NULL when nothing moved).
_MOVED_COLUMNS = """found.status AS found_status, t.*, v.plate_display AS plate, u.name AS driver_name,
       d.name AS dock_name, l.driver_user_id"""
_MOVED_FROM = """FROM found
LEFT JOIN t ON true
LEFT JOIN loads l ON l.id = t.load_id
LEFT JOIN vehicles v ON v.id = l.vehicle_id
LEFT JOIN users u ON u.id = l.driver_user_id
LEFT JOIN docks d ON d.id = t.dock_id"""
# The found ticket's site channel, named in SQL as `notifications.site_channel` names it (the site is
# known only once the statement has found the ticket); tests/integration/test_gate_advance.py
# compares the notifications with the step-by-step way's.
_FOUND_SITE_CHANNEL = "'site_' || replace(found.site_id::text, '-', '')"

# Gate staff move ticket $1, at a site of organization $2, on from $3 to $4 (loading started, loading
# complete) in ONE statement, run outside a transaction (a statement is one): the ticket, its load's
# status $5 (NULL: unchanged), the site's channel told (`site_channel`'s name, written here) and the
# `load.<$4>` event (actor $6) with the change; the same rows as TICKET_AT_OWN_SITE_FOR_UPDATE then
# ADVANCE in a transaction (`service.advance` step by step), in one round trip instead of four.
# The claim is conditional (`status = $3`): a change committed while the UPDATE waited for the
# ticket's row leaves it claiming nothing, and the caller reads again. One row per ticket found at
# the caller's sites (none: not found): `found_status` as the statement's snapshot saw it, and the
# ticket as it is now, as TICKET (all NULL when nothing was claimed). The event's organizations are
# `parties.party_orgs(ticket, $2)`: the job's parties and the gate's, once each, in that order.
ADVANCE_AT_OWN_SITE = f"""
WITH found AS (
    SELECT t.id, t.status, t.site_id,
           array(SELECT o FROM unnest(ARRAY[j.poster_org_id, j.shipper_org_id, j.consignee_org_id,
                                            l.carrier_org_id, $2::uuid]) WITH ORDINALITY AS u(o, n)
                 WHERE o IS NOT NULL GROUP BY o ORDER BY min(n)) AS org_ids
    FROM queue_tickets t JOIN sites s ON s.id = t.site_id
    JOIN loads l ON l.id = t.load_id JOIN jobs j ON j.id = l.job_id
    WHERE t.id = $1 AND s.org_id = $2
), t AS (
    UPDATE queue_tickets SET status = $4,
        loading_started_at = CASE WHEN $4 = 'loading' THEN clock_timestamp() ELSE loading_started_at END,
        loading_completed_at = CASE WHEN $4 = 'loaded' THEN clock_timestamp() ELSE loading_completed_at END
    WHERE id = (SELECT id FROM found) AND status = $3
    RETURNING *
), load AS (
    UPDATE loads SET status = $5, updated_at = now()
    WHERE $5::text IS NOT NULL AND id = (SELECT load_id FROM t)
), announced AS (
    INSERT INTO events (type, org_ids, subject_type, subject_id, actor_user_id, data)
    SELECT 'load.' || $4::text, found.org_ids, 'load', t.load_id::text, $6::uuid, '{{}}'::jsonb FROM t, found
)
SELECT {_MOVED_COLUMNS},
       (SELECT count(*) FROM (SELECT pg_notify({_FOUND_SITE_CHANNEL}, '{{}}')
                              WHERE t.id IS NOT NULL) n) AS notified
{_MOVED_FROM}"""  # noqa: S608 - constants only

# The driver's truck leaves, in ONE statement run outside a transaction (session 23): load $1 of
# carrier $2 (and driver $3; NULL: the carrier's staff) departs if its live ticket is loaded: the
# ticket departed, the load in transit, its booking (if any) served, the `load.departed` event
# (actor $4), the trip started (tracking's START_TRIP: departed at $5) and both channels told (the
# site's, `site_channel`'s name written here, and the load's track channel $6 with payload $7): the
# rows `service.depart` writes step by step (LOAD_FOR_GATE, ADVANCE, START_TRIP, the track
# notification, in a transaction), in one round trip instead of six. The move is conditional
# (`status = 'loaded'`): a change committed while the UPDATE waited for the ticket leaves it moving
# nothing, and the caller reads again. One row when the load is found (none: not found): the live
# ticket's status as the statement's snapshot saw it (`found_status`, NULL: no ticket in the yard)
# and the ticket as it is now, as TICKET (all NULL when nothing moved). The event's organizations
# are `parties.party_orgs(load)`: the job's parties, once each, in that order.
DEPART = f"""
WITH found AS (
    SELECT l.id AS load_id, t.id AS ticket_id, t.status, t.site_id,
           array(SELECT o FROM unnest(ARRAY[j.poster_org_id, j.shipper_org_id, j.consignee_org_id,
                                            l.carrier_org_id]) WITH ORDINALITY AS u(o, n)
                 WHERE o IS NOT NULL GROUP BY o ORDER BY min(n)) AS org_ids
    FROM loads l JOIN jobs j ON j.id = l.job_id
    LEFT JOIN queue_tickets t ON t.load_id = l.id AND t.status <> 'departed'
    WHERE l.id = $1 AND l.carrier_org_id = $2 AND ($3::uuid IS NULL OR l.driver_user_id = $3)
), t AS (
    UPDATE queue_tickets SET status = 'departed', departed_at = clock_timestamp()
    WHERE id = (SELECT ticket_id FROM found) AND status = 'loaded'
    RETURNING *
), load AS (
    UPDATE loads SET status = 'in_transit', updated_at = now() WHERE id = (SELECT load_id FROM t)
), booking AS (
    UPDATE slot_bookings SET status = 'served', updated_at = now() WHERE id = (SELECT booking_id FROM t)
), announced AS (
    INSERT INTO events (type, org_ids, subject_type, subject_id, actor_user_id, data)
    SELECT 'load.departed', found.org_ids, 'load', t.load_id::text, $4::uuid, '{{}}'::jsonb FROM t, found
), trip AS (
    INSERT INTO load_tracking (load_id, departed_at) SELECT load_id, $5 FROM t
    ON CONFLICT (load_id) DO NOTHING
)
SELECT {_MOVED_COLUMNS},
       (SELECT count(*) FROM (SELECT pg_notify({_FOUND_SITE_CHANNEL}, '{{}}'), pg_notify($6, $7)
                              WHERE t.id IS NOT NULL) n) AS notified
{_MOVED_FROM}"""  # noqa: S608 - constants only

# Service times of the site's latest loadings: the wait estimate's S.
RECENT_SERVICE = """
SELECT loading_completed_at - called_at AS took FROM queue_tickets
WHERE site_id = $1 AND loading_completed_at IS NOT NULL
ORDER BY loading_completed_at DESC LIMIT 20"""

OWN_SITE = "SELECT id, name, timezone FROM sites WHERE id = $2 AND org_id = $1"

# The pickup sites of a driver's loads that are still ahead of departure, and the sites where the
# driver's trucks are in the yard (the driver's socket follows them all: its tickets are cut from them).
DRIVER_SITES = """
SELECT j.origin_site_id FROM loads l JOIN jobs j ON j.id = l.job_id
WHERE l.driver_user_id = $1 AND l.carrier_org_id = $2
  AND l.status IN ('assigned', 'booked', 'at_gate', 'loading')
UNION
SELECT t.site_id FROM queue_tickets t JOIN loads l ON l.id = t.load_id
WHERE l.driver_user_id = $1 AND l.carrier_org_id = $2 AND t.status <> 'departed'"""

DRIVER_TICKETS = """
SELECT t.id FROM queue_tickets t JOIN loads l ON l.id = t.load_id
WHERE l.driver_user_id = $1 AND l.carrier_org_id = $2 AND t.status <> 'departed'
ORDER BY t.arrived_at"""

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

# A message for the driver ($2), in one statement: the driver's row in `driver_inboxes` is locked
# (held to the commit) before the message gets its id, since the message's row is made from the
# lock's (and its id's default is computed then): the driver's messages commit in the order of their
# ids (see migration 0012).
INSERT_MESSAGE = """
WITH inbox AS (
    INSERT INTO driver_inboxes (user_id, messages) VALUES ($2, 1)
    ON CONFLICT (user_id) DO UPDATE SET messages = driver_inboxes.messages + 1
    RETURNING user_id
)
INSERT INTO driver_messages (org_id, user_id, load_id, kind, key, params, text, dock)
SELECT $1, inbox.user_id, $3, $4, $5, $6, $7, $8 FROM inbox
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

# Every live ticket at site $1 (as TICKET, with its load's carrier), at $2, in one statement: the
# drivers' live sockets' shared view of the site's queue (dispatch/gate/site_queue.py). Per ticket
# what TICKET_VIEW gives one: a waiting ticket's `position` (its rank in queue order among the
# waiting ones, by a window function: the same 1 + count of those before it, as the key is unique)
# and whether it waits for its slot; and the site's facts, the same on every row (computed once):
# its active docks, its latest service times and when the trucks now at its docks were called.
SITE_QUEUE_VIEW = f"""
WITH {_RULES},
ranked AS (
    SELECT w.id, row_number() OVER (ORDER BY {_order_key("w")}) AS position, {_group("w")} = 2 AS early
    FROM queue_tickets w, rules WHERE w.site_id = $1 AND w.status = 'waiting'
)
SELECT t.*, v.plate_display AS plate, u.name AS driver_name, d.name AS dock_name, l.driver_user_id,
       l.carrier_org_id, ranked.position, coalesce(ranked.early, false) AS waiting_for_slot,
       (SELECT count(*) FROM docks WHERE site_id = $1 AND active) AS active_docks,
       (SELECT array_agg(took) FROM (
           SELECT loading_completed_at - called_at AS took FROM queue_tickets
           WHERE site_id = $1 AND loading_completed_at IS NOT NULL
           ORDER BY loading_completed_at DESC LIMIT 20) r) AS recent_service,
       (SELECT array_agg(called_at) FROM queue_tickets
        WHERE site_id = $1 AND status IN ('called', 'loading', 'loaded') AND called_at IS NOT NULL)
       AS at_docks_since
FROM queue_tickets t
JOIN loads l ON l.id = t.load_id
JOIN vehicles v ON v.id = l.vehicle_id
LEFT JOIN users u ON u.id = l.driver_user_id
LEFT JOIN docks d ON d.id = t.dock_id
LEFT JOIN ranked ON ranked.id = t.id
WHERE t.site_id = $1 AND t.status <> 'departed'"""  # noqa: S608 - constants only
