"""Scorecard SQL: read-only counts over what the other areas recorded (the events outbox, slot
bookings and queue tickets, loads, trips, receipts). Nothing here writes; the rules are in README.md.

Every fact is one row (job, figure, numerator, denominator) so that a lane's figures are the sums of
its jobs' rows and the carrier's figures the sums of its lanes'.
"""

# $1 the carrier, $2 the window's start, $3 the viewer's organization (to say which lanes it is a party of).
LANE_FIGURES = """
WITH tender AS (
    SELECT e.subject_id::uuid AS job_id, 'tender_acceptance' AS figure,
           (e.type = 'tender.accepted')::int AS num, 1 AS den
    FROM events e
    WHERE e.type IN ('tender.accepted', 'tender.declined', 'tender.timed_out')
      AND e.subject_type = 'job' AND e.data ->> 'carrier_org_id' = $1::uuid::text AND e.occurred_at >= $2
),
awards AS (
    -- Each job awarded to the carrier counts once (a grab, an auction or a tender): awarded in the
    -- window, or given back or cancelled in it (its award then counts too, even if made before the
    -- window, so a figure never counts more give-backs than awards).
    SELECT DISTINCT e.subject_id::uuid AS job_id
    FROM events e
    WHERE e.type IN ('job.awarded', 'tender.accepted', 'job.given_back', 'job.award_cancelled')
      AND e.subject_type = 'job' AND e.data ->> 'carrier_org_id' = $1::uuid::text AND e.occurred_at >= $2
),
after_award AS (
    SELECT job_id, figure, 0 AS num, 1 AS den
    FROM awards CROSS JOIN (VALUES ('given_back'), ('award_cancelled')) AS f (figure)
    UNION ALL
    SELECT e.subject_id::uuid,
           CASE e.type WHEN 'job.given_back' THEN 'given_back' ELSE 'award_cancelled' END, 1, 0
    FROM events e
    WHERE e.type IN ('job.given_back', 'job.award_cancelled')
      AND e.subject_type = 'job' AND e.data ->> 'carrier_org_id' = $1::uuid::text AND e.occurred_at >= $2
),
booked AS (
    -- The carrier's bookings that were kept or are over: not cancelled, and checked in or ended.
    SELECT l.job_id, b.slot_end, t.arrived_at
    FROM slot_bookings b
    JOIN loads l ON l.id = b.load_id
    LEFT JOIN LATERAL (
        SELECT min(q.arrived_at) AS arrived_at FROM queue_tickets q WHERE q.booking_id = b.id
    ) t ON true
    WHERE l.carrier_org_id = $1 AND b.status <> 'cancelled' AND b.slot_end >= $2
      AND (t.arrived_at IS NOT NULL OR b.slot_end <= now())
),
slots AS (
    SELECT job_id, 'slot_on_time' AS figure, (arrived_at < slot_end)::int AS num, 1 AS den
    FROM booked WHERE arrived_at IS NOT NULL
    UNION ALL
    SELECT job_id, 'no_shows', (arrived_at IS NULL)::int, 1
    FROM booked WHERE slot_end <= now()
),
delivered AS (
    SELECT l.job_id, j.deliver_by, coalesce(lt.arrived_at, r.received_at) AS delivered_at
    FROM loads l
    JOIN jobs j ON j.id = l.job_id
    LEFT JOIN load_tracking lt ON lt.load_id = l.id
    LEFT JOIN receipts r ON r.load_id = l.id
    WHERE l.carrier_org_id = $1 AND coalesce(lt.arrived_at, r.received_at) >= $2
),
deliveries AS (
    SELECT job_id, 'delivery_on_time' AS figure, (delivered_at <= deliver_by)::int AS num, 1 AS den
    FROM delivered
),
received AS (
    SELECT r.job_id, 'receipt_discrepancies' AS figure,
           (jsonb_array_length(r.discrepancies) > 0 OR r.condition = 'damaged')::int AS num, 1 AS den
    FROM receipts r JOIN loads l ON l.id = r.load_id
    WHERE l.carrier_org_id = $1 AND r.received_at >= $2
),
facts AS (
    SELECT * FROM tender UNION ALL SELECT * FROM after_award UNION ALL SELECT * FROM slots
    UNION ALL SELECT * FROM deliveries UNION ALL SELECT * FROM received
),
lane_facts AS (
    SELECT j.origin_site_id, j.destination_site_id,
           CASE WHEN j.destination_site_id IS NULL THEN round(j.destination_lat::numeric, 1) END AS area_lat,
           CASE WHEN j.destination_site_id IS NULL THEN round(j.destination_lon::numeric, 1) END AS area_lon,
           f.figure, sum(f.num)::int AS num, sum(f.den)::int AS den,
           bool_or($3 IN (j.poster_org_id, j.shipper_org_id, j.consignee_org_id)) AS viewer_party
    FROM facts f JOIN jobs j ON j.id = f.job_id
    GROUP BY 1, 2, 3, 4, 5
),
by_lane AS (
    SELECT origin_site_id, destination_site_id, area_lat, area_lon, bool_or(viewer_party) AS viewer_party,
           jsonb_object_agg(figure, jsonb_build_array(num, den)) AS figures
    FROM lane_facts
    GROUP BY 1, 2, 3, 4
)
SELECT b.*, o.name AS origin_name, d.name AS destination_name
FROM by_lane b
JOIN sites o ON o.id = b.origin_site_id
LEFT JOIN sites d ON d.id = b.destination_site_id
ORDER BY o.name, d.name NULLS LAST, b.area_lat, b.area_lon"""

# The carrier's name, and whether $2 may see its scorecard: it is the carrier, or the carrier carried
# (or carries) one of its jobs, or bid on one of the jobs it posted.
CARRIER_FOR_VIEWER = """
SELECT o.id, o.name
FROM organizations o
WHERE o.id = $1 AND (
    o.id = $2
    OR EXISTS (SELECT 1 FROM jobs j WHERE j.carrier_org_id = o.id
               AND $2 IN (j.poster_org_id, j.shipper_org_id, j.consignee_org_id))
    OR EXISTS (SELECT 1 FROM loads l JOIN jobs j ON j.id = l.job_id WHERE l.carrier_org_id = o.id
               AND $2 IN (j.poster_org_id, j.shipper_org_id, j.consignee_org_id))
    OR EXISTS (SELECT 1 FROM bids b JOIN jobs j ON j.id = b.job_id WHERE b.carrier_org_id = o.id
               AND j.poster_org_id = $2))"""
