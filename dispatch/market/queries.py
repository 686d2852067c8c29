"""Market SQL, one named unit per statement.

Visibility is decided in the SQL: a job's full row is read only with `party_org = $1` among its
poster, shipper, consignee and awarded carrier; the market (public) view only while it is open.
"""

from __future__ import annotations

# -- jobs -------------------------------------------------------------------------------------

INSERT_JOB = """
INSERT INTO jobs (
    reference, poster_org_id, shipper_org_id, consignee_org_id, goods_owner,
    origin_site_id, origin_lon, origin_lat,
    destination_site_id, destination_address, destination_lon, destination_lat, destination_geofence,
    distance_m, cargo_kind, cargo, total_weight_kg, total_volume_m3, vehicle_type,
    pickup_from, pickup_until, deliver_by, mode, currency, price_minor, ceiling_minor, min_step_minor,
    deadline, notes, created_by, planned_route)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
        $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31)
RETURNING id"""

# Every column a view needs, from `j` (jobs) joined to its origin and destination sites.
_JOB_SELECT = """
SELECT j.*, o.name AS origin_name, o.address AS origin_address, d.name AS destination_name,
       (SELECT count(*) FROM bids b WHERE b.job_id = j.id AND b.status = 'active') AS bid_count"""
_JOB_JOINS = """
JOIN sites o ON o.id = j.origin_site_id
LEFT JOIN sites d ON d.id = j.destination_site_id"""

# A job for one of its parties ($1), or for any carrier's market view while it is open, or for the
# carrier it is offered to now in a tender (to any other carrier a tendered job does not exist).
_OFFERED_NOW = """EXISTS (SELECT 1 FROM tender_offers t
                  WHERE t.job_id = j.id AND t.carrier_org_id = $1 AND t.state = 'offered')"""
JOB_FOR = (
    _JOB_SELECT
    + """,
       $1 IN (j.poster_org_id, j.shipper_org_id, j.consignee_org_id, j.carrier_org_id) AS is_party
FROM jobs j"""
    + _JOB_JOINS
    + """
WHERE j.id = $2
  AND ($1 IN (j.poster_org_id, j.shipper_org_id, j.consignee_org_id, j.carrier_org_id)
       OR j.status = 'open'
       OR """
    + _OFFERED_NOW
    + ")"
)

# Locks the job row for a state change; any organization may try (the caller checks roles).
LOCK_JOB = "SELECT * FROM jobs WHERE id = $1 FOR UPDATE"

# Whether organization $2 may learn how job j ended. Its parties and its bidders always. Anyone
# else only while the job is open (the market shows it to all) and in the 15 seconds after it left the
# market: a carrier that lost the race for it, or clicked a moment late, is told it was taken or
# closed (what the feed's job.removed told everyone). Later the job answers as an unknown id does,
# so that closed jobs are not an oracle of their status and deadline. A job a tender awarded never
# was on the market: no grace for others there.
_SEES_OUTCOME = """(
    j.status = 'open'
    OR $2 IN (j.poster_org_id, j.shipper_org_id, j.consignee_org_id, j.carrier_org_id)
    OR coalesce(j.awarded_at, j.closed_at) > clock_timestamp() - interval '15 seconds'
       AND NOT EXISTS (SELECT 1 FROM tenders t
                       WHERE t.job_id = j.id AND t.status = 'accepted' AND t.ended_at >= j.awarded_at)
    OR EXISTS (SELECT 1 FROM bids b WHERE b.job_id = j.id AND b.carrier_org_id = $2))"""

# Bids and the close hold this shared lock against each other (see service.place_bid). A job whose
# outcome organization $2 may not learn is not found.
_JOB_NOW = "SELECT j.*, clock_timestamp() AS now FROM jobs j WHERE j.id = $1"
LOCK_JOB_SHARE = _JOB_NOW + " AND " + _SEES_OUTCOME + " FOR SHARE OF j"

# Why a grab by organization $2 updated nothing (a job whose outcome it may not learn: not found).
JOB_AFTER_FAILED_GRAB = _JOB_NOW + " AND " + _SEES_OUTCOME

# The job as a grab by organization $2 finds it before its UPDATE (read without a lock: a job taken
# already is answered from it, as JOB_AFTER_FAILED_GRAB would; the columns that answer needs), and
# whether its goods owner authorizes automatically, so that the award need not read it while it
# holds the job's row lock; and the columns the award's rows are drawn from (GRAB_AND_AWARD: none
# of them changes while the job is open, but its price, which that statement takes as awarded).
_JOB_AND_OWNER_SETTING = """
SELECT j.mode, j.status, j.deadline, j.poster_org_id, j.shipper_org_id, j.excluded_carrier_org_ids,
       j.id, j.consignee_org_id, j.goods_owner, j.pickup_from, j.pickup_until, j.origin_lon,
       j.origin_lat, j.vehicle_type, j.cargo_kind, j.price_minor, j.currency,
       clock_timestamp() AS now,
       (SELECT o.auto_authorize_pickup FROM organizations o
        WHERE o.id = CASE WHEN j.goods_owner = 'consignee' THEN j.consignee_org_id
                          ELSE j.shipper_org_id END) AS owner_auto_authorizes
FROM jobs j WHERE j.id = $1"""
JOB_BEFORE_GRAB = _JOB_AND_OWNER_SETTING + " AND " + _SEES_OUTCOME

# The organization's own jobs in any role, newest first (keyset on created_at, id).
MY_JOBS = (
    _JOB_SELECT
    + """, true AS is_party
FROM jobs j"""
    + _JOB_JOINS
    + """
WHERE $1 IN (j.poster_org_id, j.shipper_org_id, j.consignee_org_id, j.carrier_org_id)
  AND ($2::text IS NULL OR j.status = $2)
  AND ($3::timestamptz IS NULL OR (j.created_at, j.id) < ($3, $4::uuid))
ORDER BY j.created_at DESC, j.id DESC
LIMIT $5"""
)

# The grab: one conditional update decides the winner. Whoever's UPDATE commits first changes the
# row; every other UPDATE waits for it, re-reads the row, finds it no longer open, and updates
# nothing. clock_timestamp(): the deadline is judged now, not at the transaction's start.
GRAB = """
UPDATE jobs SET status = 'awarded', carrier_org_id = $2, award_price_minor = price_minor,
                awarded_at = clock_timestamp()
WHERE id = $1 AND status = 'open' AND mode = 'grab' AND deadline > clock_timestamp()
  AND $2 NOT IN (poster_org_id, shipper_org_id) AND NOT $2 = ANY(excluded_carrier_org_ids)
RETURNING *"""

# The grab and everything its award writes, in one statement, so that the winner holds the job's
# row lock for this statement only (not across round trips to a busy worker): GRAB's UPDATE; the
# `job.awarded` event ($3-$8: INSERT_EVENT's values; its price and currency as awarded); when the
# goods owner authorizes automatically ($9), the authorization as dispatch/authorizations writes it
# (INSERT_AUTHORIZATION, any plate and driver: $10-$14 drawn by the AutoAuthorizer) and its
# `authorization.issued` event ($15-$20); and the feed's removal ($21, $22: pg_notify, delivered at
# commit). A grab that updates nothing writes nothing and returns no row. The authorization's event
# reads the award's (`awarded`), so its id comes after it, as when they were written one by one. An
# authorization in force already fails the whole statement (the partial unique index), as the
# transaction written step by step was rolled back. `notified` is read in the answer: a SELECT in
# WITH runs only as far as it is read.
GRAB_AND_AWARD = """
WITH grabbed AS (
    UPDATE jobs SET status = 'awarded', carrier_org_id = $2, award_price_minor = price_minor,
                    awarded_at = clock_timestamp()
    WHERE id = $1 AND status = 'open' AND mode = 'grab' AND deadline > clock_timestamp()
      AND $2 NOT IN (poster_org_id, shipper_org_id) AND NOT $2 = ANY(excluded_carrier_org_ids)
    RETURNING id, carrier_org_id, award_price_minor, currency, origin_site_id
), awarded AS (
    INSERT INTO events (type, org_ids, subject_type, subject_id, actor_user_id, data)
    SELECT $3, $4::uuid[], $5, $6, $7::uuid,
           $8::jsonb || jsonb_build_object('price_minor', g.award_price_minor, 'currency', g.currency)
    FROM grabbed g
    RETURNING id
), authorized AS (
    INSERT INTO pickup_authorizations (id, code_hash, job_id, issuer_org_id, carrier_org_id, site_id,
                                       valid_from, valid_until, allowed_plates, allowed_driver_ids,
                                       created_by)
    SELECT $10::uuid, $11::bytea, g.id, $12::uuid, g.carrier_org_id, g.origin_site_id, $13::timestamptz,
           $14::timestamptz, '{}', '{}', NULL
    FROM grabbed g WHERE $9::boolean
    RETURNING id
), authorization_issued AS (
    INSERT INTO events (type, org_ids, subject_type, subject_id, actor_user_id, data)
    SELECT $15, $16::uuid[], $17, $18, $19::uuid, $20::jsonb
    FROM authorized, awarded
    RETURNING id
), notified AS (
    SELECT pg_notify($21, $22) FROM grabbed
)
SELECT g.id, (SELECT count(*) FROM notified) AS notified FROM grabbed g"""

AWARD = """
UPDATE jobs SET status = 'awarded', carrier_org_id = $2, award_price_minor = $3, winning_bid_id = $4,
                awarded_at = clock_timestamp()
WHERE id = $1 AND status = 'open'
RETURNING *"""

CANCEL = """
UPDATE jobs SET status = 'cancelled', closed_at = clock_timestamp()
WHERE id = $1 AND status IN ('open', 'tendering', 'returned')
RETURNING *"""

# The closer's claim: open jobs past their deadline, each locked by one worker only. A job whose
# row a bid transaction holds (FOR SHARE) is skipped this round and taken on the next.
CLAIM_DUE = """
SELECT * FROM jobs
WHERE status = 'open' AND deadline <= clock_timestamp()
ORDER BY deadline
LIMIT $1
FOR UPDATE SKIP LOCKED"""

EXPIRE = """
UPDATE jobs SET status = 'expired', closed_at = clock_timestamp()
WHERE id = $1 AND status = 'open'"""

# -- the market search ------------------------------------------------------------------------
# Open jobs, filtered; $1..$3 the point and radius (all NULL for no distance filter). The inner
# query picks the page using the indexes; the outer one decorates just those rows.
_SEARCH_FILTER = """
    FROM jobs j
    WHERE j.status = 'open' AND j.deadline > now()
      AND ($3::float8 IS NULL
           OR cube_enlarge(earth_point($1, $2), $3, 3) @> earth_point(j.origin_lat, j.origin_lon)
              AND earth_distance_m(earth_point($1, $2), earth_point(j.origin_lat, j.origin_lon)) <= $3)
      AND ($4::timestamptz IS NULL OR j.pickup_until >= $4)
      AND ($5::timestamptz IS NULL OR j.pickup_from <= $5)
      AND ($6::text IS NULL OR j.cargo_kind = $6)
      AND ($7::text IS NULL OR j.vehicle_type = $7)
      AND ($8::text IS NULL OR j.currency = $8)"""

_SEARCH_DECORATE = """
SELECT page.*, o.name AS origin_name, o.address AS origin_address, d.name AS destination_name,
       false AS is_party,
       (SELECT count(*) FROM bids b WHERE b.job_id = page.id AND b.status = 'active') AS bid_count
FROM page JOIN sites o ON o.id = page.origin_site_id LEFT JOIN sites d ON d.id = page.destination_site_id
"""

# Nearest first. The ORDER BY on the chord (`<->`) lets the GiST index walk outwards from the
# point (KNN) instead of sorting every job in the radius. Cursor: ($9 distance, $10 id).
SEARCH_BY_DISTANCE = (
    """
WITH page AS (
    SELECT j.*, earth_distance_m(earth_point($1, $2), earth_point(j.origin_lat, j.origin_lon)) AS from_point_m
"""
    + _SEARCH_FILTER
    + """
      AND ($9::float8 IS NULL
           OR (earth_distance_m(earth_point($1, $2), earth_point(j.origin_lat, j.origin_lon)), j.id)
              > ($9, $10::uuid))
    ORDER BY earth_point(j.origin_lat, j.origin_lon) <-> earth_point($1, $2), j.id
    LIMIT $11)
"""
    + _SEARCH_DECORATE
    + "ORDER BY page.from_point_m, page.id"
)

# Cheapest first: the posted price, or the ceiling of an auction (auctions without one last).
# Cursor: ($9 price, $10 id); a NULL price sorts as the largest.
SEARCH_BY_PRICE = (
    """
WITH page AS (
    SELECT j.*, CASE WHEN $3::float8 IS NULL THEN NULL
                     ELSE earth_distance_m(earth_point($1, $2), earth_point(j.origin_lat, j.origin_lon))
                END AS from_point_m,
           coalesce(j.price_minor, j.ceiling_minor, 9223372036854775807) AS sort_price
"""
    + _SEARCH_FILTER
    + """
      AND ($9::bigint IS NULL
           OR (coalesce(j.price_minor, j.ceiling_minor, 9223372036854775807), j.id) > ($9, $10::uuid))
    ORDER BY sort_price, j.id
    LIMIT $11)
"""
    + _SEARCH_DECORATE
    + "ORDER BY page.sort_price, page.id"
)

# Earliest pickup first. Cursor: ($9 pickup_from, $10 id).
SEARCH_BY_PICKUP = (
    """
WITH page AS (
    SELECT j.*, CASE WHEN $3::float8 IS NULL THEN NULL
                     ELSE earth_distance_m(earth_point($1, $2), earth_point(j.origin_lat, j.origin_lon))
                END AS from_point_m
"""
    + _SEARCH_FILTER
    + """
      AND ($9::timestamptz IS NULL OR (j.pickup_from, j.id) > ($9, $10::uuid))
    ORDER BY j.pickup_from, j.id
    LIMIT $11)
"""
    + _SEARCH_DECORATE
    + "ORDER BY page.pickup_from, page.id"
)

# -- bids -------------------------------------------------------------------------------------

_BID_COLUMNS = """
SELECT b.id, b.job_id, b.carrier_org_id, b.amount_minor, j.currency, b.status, b.placed_at, b.created_at,
       CASE WHEN b.status = 'active' THEN
           (SELECT count(*) + 1 FROM bids o
            WHERE o.job_id = b.job_id AND o.status = 'active'
              AND (o.amount_minor, o.placed_at, o.id) < (b.amount_minor, b.placed_at, b.id))
       END AS rank,
       (SELECT count(*) FROM bids o WHERE o.job_id = b.job_id AND o.status = 'active') AS active_bids
FROM bids b JOIN jobs j ON j.id = b.job_id"""

BID = _BID_COLUMNS + " WHERE b.id = $1"

# Every bid on a job, for its poster: ranked.
BIDS_OF_JOB = _BID_COLUMNS + " WHERE b.job_id = $1 ORDER BY b.status <> 'active', rank, b.placed_at"

# A carrier's own bids on a job (its live one and its history).
OWN_BIDS_OF_JOB = _BID_COLUMNS + " WHERE b.job_id = $1 AND b.carrier_org_id = $2 ORDER BY b.created_at DESC"

INSERT_BID = """
INSERT INTO bids (job_id, carrier_org_id, amount_minor, created_by)
VALUES ($1, $2, $3, $4)
ON CONFLICT (job_id, carrier_org_id) WHERE status = 'active' DO NOTHING
RETURNING id"""

# Lowering keeps the bid; its new amount ranks from now.
LOWER_BID = """
UPDATE bids SET amount_minor = $3, placed_at = clock_timestamp()
WHERE id = $1 AND carrier_org_id = $2 AND status = 'active'
RETURNING id"""

OWN_BID_FOR_UPDATE = "SELECT * FROM bids WHERE id = $1 AND job_id = $2 AND carrier_org_id = $3 FOR UPDATE"

WITHDRAW_BID = "UPDATE bids SET status = 'withdrawn' WHERE id = $1 AND status = 'active'"

ACTIVE_BID_FOR_UPDATE = "SELECT * FROM bids WHERE id = $1 AND job_id = $2 AND status = 'active' FOR UPDATE"

# The winner at the close: lowest amount, then the earliest offer of it.
LOWEST_BID = """
SELECT * FROM bids WHERE job_id = $1 AND status = 'active'
ORDER BY amount_minor, placed_at, id
LIMIT 1"""

SETTLE_BIDS = """
UPDATE bids SET status = CASE WHEN id = $2 THEN 'won' ELSE 'lost' END
WHERE job_id = $1 AND status = 'active'
RETURNING id, carrier_org_id, status"""

LOSE_ALL_BIDS = """
UPDATE bids SET status = 'lost' WHERE job_id = $1 AND status = 'active'
RETURNING id, carrier_org_id"""

# -- the goods owner's settings ---------------------------------------------------------------

ORG_AUTO_AUTHORIZE = "SELECT auto_authorize_pickup FROM organizations WHERE id = $1"

SET_ORG_AUTO_AUTHORIZE = "UPDATE organizations SET auto_authorize_pickup = $2 WHERE id = $1"

# -- market areas -----------------------------------------------------------------------------

_AREA_COLUMNS = """
SELECT id, name, CASE WHEN center_lat IS NULL THEN NULL
                      ELSE jsonb_build_object('lat', center_lat, 'lon', center_lon) END AS center,
       radius_m / 1000.0 AS radius_km, polygon, vehicle_types, cargo_kinds, created_at
FROM market_areas"""

AREAS = _AREA_COLUMNS + " WHERE org_id = $1 ORDER BY created_at, id"

AREA = _AREA_COLUMNS + " WHERE org_id = $1 AND id = $2"

INSERT_AREA = """
INSERT INTO market_areas (org_id, name, center_lon, center_lat, radius_m, polygon, vehicle_types, cargo_kinds)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING id"""

DELETE_AREA = "DELETE FROM market_areas WHERE org_id = $1 AND id = $2 RETURNING id"

COUNT_AREAS = "SELECT count(*) FROM market_areas WHERE org_id = $1"

# -- tenders ----------------------------------------------------------------------------------
# Lock order, everywhere: the job row first, then its offers. The timeout loop takes both at once
# with SKIP LOCKED, so it never waits on (nor deadlocks with) an accept or a decline in progress.

# Which of the organizations $1 play the carrier's part (a tender names carriers only).
CARRIER_ORGS = "SELECT id FROM organizations WHERE id = ANY($1::uuid[]) AND 'carrier' = ANY(parties)"

# The carriers a poster may pick for a tender ($1: the poster's own organization, never offered its
# own job), by name: $2 is a piece of the name, any case (strpos, not LIKE: a typed % or _ is a
# letter), or NULL for all; at most $3, by name.
CARRIER_CHOICES = """
SELECT id, name FROM organizations
WHERE 'carrier' = ANY(parties) AND id <> $1
  AND ($2::text IS NULL OR strpos(lower(name), lower($2::text)) > 0)
ORDER BY lower(name), id
LIMIT $3
"""

INSERT_TENDER = """
INSERT INTO tenders (job_id, price_minor, window_s, then_do, created_by)
VALUES ($1, $2, $3, $4, $5)
RETURNING id"""

INSERT_OFFER = """
INSERT INTO tender_offers (tender_id, job_id, carrier_org_id, rank, price_minor)
VALUES ($1, $2, $3, $4, $5)"""

SET_JOB_TENDERING = "UPDATE jobs SET status = 'tendering' WHERE id = $1"

SET_DEADLINE = "UPDATE jobs SET deadline = $2 WHERE id = $1"

# The next carrier's turn: the lowest pending rank of the running tender is offered from now, for
# the tender's window or until the job's pickup window ends, whichever comes first (no carrier can
# take a job it can no longer pick up).
OFFER_NEXT = """
UPDATE tender_offers o SET state = 'offered', offered_at = clock_timestamp(),
       expires_at = LEAST(clock_timestamp() + make_interval(secs => t.window_s), j.pickup_until)
FROM tenders t, jobs j
WHERE t.id = o.tender_id AND j.id = o.job_id AND o.id = (
    SELECT p.id FROM tender_offers p JOIN tenders pt ON pt.id = p.tender_id
    WHERE p.job_id = $1 AND pt.status = 'running' AND p.state = 'pending'
    ORDER BY p.rank LIMIT 1)
RETURNING o.*"""

RUNNING_TENDER = "SELECT * FROM tenders WHERE job_id = $1 AND status = 'running'"

END_TENDER = """
UPDATE tenders SET status = $2, ended_at = clock_timestamp() WHERE id = $1 AND status = 'running'"""

# After an accept, the carriers whose turn never came are skipped; after a cancel, withdrawn.
CLOSE_OPEN_OFFERS = """
UPDATE tender_offers SET state = $2, answered_at = CASE WHEN state = 'offered' THEN clock_timestamp() END
WHERE tender_id = $1 AND state IN ('pending', 'offered')
RETURNING *"""

# The job behind an offer made to carrier $2 (an offer whose turn has come: offered at some time;
# one withdrawn or skipped before its turn is not the carrier's to know), locked for the answer.
JOB_OF_OFFER_FOR_UPDATE = """
SELECT j.* FROM jobs j JOIN tender_offers o ON o.job_id = j.id
WHERE o.id = $1 AND o.carrier_org_id = $2 AND o.offered_at IS NOT NULL
FOR UPDATE OF j"""

# An offer as its answer finds it: its window closes at its expiry or at the end of the job's pickup
# window, whichever comes first.
OFFER = """
SELECT o.*, LEAST(o.expires_at, j.pickup_until) AS closes_at, clock_timestamp() AS now
FROM tender_offers o JOIN jobs j ON j.id = o.job_id WHERE o.id = $1"""

# The accept: one conditional update decides, like the grab. It holds only while the offer is out
# and its window open, judged now (clock_timestamp()); an accept that waited on the timeout loop's
# lock re-reads the row, finds it timed out, and updates nothing.
ACCEPT_OFFER = """
UPDATE tender_offers o SET state = 'accepted', answered_at = clock_timestamp()
FROM jobs j
WHERE o.id = $1 AND o.carrier_org_id = $2 AND o.state = 'offered' AND o.expires_at > clock_timestamp()
  AND j.id = o.job_id AND j.pickup_until > clock_timestamp()
RETURNING o.*"""

DECLINE_OFFER = """
UPDATE tender_offers SET state = 'declined', answered_at = clock_timestamp(), reason = $3
WHERE id = $1 AND carrier_org_id = $2 AND state = 'offered' AND expires_at > clock_timestamp()
RETURNING *"""

AWARD_TENDERED = """
UPDATE jobs SET status = 'awarded', carrier_org_id = $2, award_price_minor = $3,
                awarded_at = clock_timestamp()
WHERE id = $1 AND status = 'tendering'
RETURNING *"""

# The timeout loop's claim: offers whose window has passed, or whose job can no longer be picked up
# (its pickup window has ended), each with its job, both locked by one worker only; an offer or job
# another transaction holds (an accept, a decline) waits a round. `job_passed` tells the two apart.
CLAIM_TIMED_OUT_OFFERS = """
SELECT o.*, j.id AS job_row_id, j.pickup_until <= clock_timestamp() AS job_passed
FROM tender_offers o JOIN jobs j ON j.id = o.job_id
WHERE o.state = 'offered' AND (o.expires_at <= clock_timestamp() OR j.pickup_until <= clock_timestamp())
ORDER BY o.expires_at
LIMIT $1
FOR UPDATE OF o, j SKIP LOCKED"""

TIME_OUT_OFFER = "UPDATE tender_offers SET state = 'timed_out', answered_at = clock_timestamp() WHERE id = $1"

JOB = "SELECT *, clock_timestamp() AS now FROM jobs WHERE id = $1"

# A job can no longer be picked up once its pickup window has ended: its tender ends, the job expires.
PICKUP_PASSED = "SELECT pickup_until <= clock_timestamp() FROM jobs WHERE id = $1"

# The tender is exhausted: the job opens to the market (its deadline still ahead) or expires.
OPEN_TENDERED = """
UPDATE jobs SET status = 'open'
WHERE id = $1 AND status = 'tendering' AND deadline > clock_timestamp()
RETURNING *"""

EXPIRE_TENDERED = """
UPDATE jobs SET status = 'expired', closed_at = clock_timestamp()
WHERE id = $1 AND status = 'tendering'
RETURNING *"""

# The latest tender of a job with its offers in rank order, for the poster's side.
LATEST_TENDER = "SELECT * FROM tenders WHERE job_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1"

OFFERS_OF_TENDER = """
SELECT o.*, org.name AS carrier_name FROM tender_offers o JOIN organizations org ON org.id = o.carrier_org_id
WHERE o.tender_id = $1 ORDER BY o.rank"""

# A carrier's offers whose turn has come (offered at some time: one withdrawn before its turn, on a
# cancel or a job past its pickup window, is not the carrier's to know): the one out now first, then
# its answered ones, newest first.
OFFERS_TO_CARRIER = """
SELECT o.id, o.job_id, o.rank, o.price_minor, j.currency, o.state, o.offered_at, o.expires_at,
       o.answered_at, o.reason
FROM tender_offers o JOIN jobs j ON j.id = o.job_id
WHERE o.carrier_org_id = $1 AND o.offered_at IS NOT NULL
  AND ($2::boolean IS FALSE OR o.state = 'offered')
ORDER BY o.state <> 'offered', o.offered_at DESC
LIMIT 200"""

# -- an award withdrawn, and the re-tender -----------------------------------------------------

# The award is given back or cancelled: the job waits for its poster, the carrier left out.
RETURN_AWARD = """
UPDATE jobs SET status = 'returned', carrier_org_id = NULL, award_price_minor = NULL, winning_bid_id = NULL,
                awarded_at = NULL,
                excluded_carrier_org_ids = array_append(excluded_carrier_org_ids, carrier_org_id)
WHERE id = $1 AND status IN ('awarded', 'dispatched')
RETURNING *"""

# Back on the market with new terms ($2 mode, $3 price, $4 ceiling, $5 step, $6 deadline).
REOPEN_RETURNED = """
UPDATE jobs SET status = 'open', mode = $2, price_minor = $3, ceiling_minor = $4, min_step_minor = $5,
                deadline = $6, closed_at = NULL
WHERE id = $1 AND status = 'returned'
RETURNING *"""

# The bids of an earlier market round are history: a re-opened auction starts without them.
RETIRE_OLD_BIDS = "UPDATE bids SET status = 'lost' WHERE job_id = $1 AND status = 'active'"
