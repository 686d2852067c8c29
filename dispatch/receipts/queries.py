"""Receipt SQL."""

# The load, its job and its trip, for a party ($2) of the job (no lock: the visibility check).
LOAD_FOR_PARTY = """
SELECT l.id, l.status, l.job_id, l.seq, l.items, l.weight_kg, l.bulk_kg, l.driver_user_id,
       j.poster_org_id, j.shipper_org_id, j.consignee_org_id, j.carrier_org_id, j.cargo, j.cargo_kind,
       j.destination_geofence
FROM loads l JOIN jobs j ON j.id = l.job_id
WHERE l.id = $1 AND $2 IN (j.poster_org_id, j.shipper_org_id, j.consignee_org_id, j.carrier_org_id)"""

# Locks in this order (the GPS ingest takes the trip row, then the load row): the trip, then the
# load; the job row only by a receipt that may be the job's last (see LOAD_STILL_TO_RECEIVE).
# The trip locked, with its load and job for a party ($2) of the job (LOAD_FOR_PARTY's columns): one
# round trip for the visibility check and the first lock. No row: no such load for the party, or
# the load has no trip (LOAD_FOR_PARTY tells which).
LOCK_TRIP_FOR_PARTY = """
SELECT l.id, l.status, l.job_id, l.seq, l.items, l.weight_kg, l.bulk_kg, l.driver_user_id,
       j.poster_org_id, j.shipper_org_id, j.consignee_org_id, j.carrier_org_id, j.cargo, j.cargo_kind,
       j.destination_geofence, t.last_lon, t.last_lat, t.last_accuracy_m
FROM load_tracking t
JOIN loads l ON l.id = t.load_id
JOIN jobs j ON j.id = l.job_id
WHERE t.load_id = $1 AND $2 IN (j.poster_org_id, j.shipper_org_id, j.consignee_org_id, j.carrier_org_id)
FOR UPDATE OF t"""
LOCK_LOAD = "SELECT status FROM loads WHERE id = $1 FOR NO KEY UPDATE"
LOCK_JOB = "SELECT status FROM jobs WHERE id = $1 FOR NO KEY UPDATE"

# A witness that the receipt of load $2 is not its job's ($1) last: another load still to receive
# that no receipt is confirming now, share-locked until this transaction ends, so it stays unreceived
# until then (its receipt waits for the lock). Loads locked by a receipt in flight (or any other
# writer) are skipped, never waited for. No row: this receipt may be the last (README).
LOAD_STILL_TO_RECEIVE = """
SELECT id FROM loads
WHERE job_id = $1 AND id <> $2 AND status NOT IN ('received', 'cancelled')
LIMIT 1
FOR SHARE SKIP LOCKED"""

# What the receipt reads from the load's evidence, in one statement run after the load's lock is
# granted (so it sees every append before it; appenders take the same lock): what the truck was
# loaded with by the weighbridge (the latest gross weighing's net), which of the photos $2 are in
# the evidence, whether the signature $3 is a PNG photo record there, and the chain's end.
EVIDENCE_FOR_RECEIPT = """
SELECT (SELECT (data ->> 'net_kg')::bigint FROM evidence_records
        WHERE load_id = $1 AND kind = 'weighbridge_gross' ORDER BY seq DESC LIMIT 1) AS loaded_net_kg,
       ARRAY(SELECT DISTINCT data ->> 'sha256' FROM evidence_records
             WHERE load_id = $1 AND kind = 'photo' AND data ->> 'sha256' = ANY($2::text[])) AS photos,
       EXISTS (SELECT 1 FROM evidence_records
               WHERE load_id = $1 AND kind = 'photo' AND data ->> 'sha256' = $3
                 AND data ->> 'content_type' = 'image/png') AS signature_found,
       last.seq AS last_seq, last.hash AS last_hash
FROM (SELECT 1) one
LEFT JOIN LATERAL (SELECT seq, hash FROM evidence_records WHERE load_id = $1
                   ORDER BY seq DESC LIMIT 1) last ON true"""

# The receipt ($1-$21), the load `received`, the trip ended at the receipt's time and `load.received`
# ($22-$27, events.PendingEvent's order) in one statement, answering the receipt as stored with its
# job's status (RECEIPT's columns). ON CONFLICT: no row (the load row's lock makes it unreachable).
RECEIVE = """
WITH r AS (
    INSERT INTO receipts (load_id, job_id, consignee_org_id, confirmed_by, signer_name, received_at,
                          condition, received_weight_kg, loaded_net_kg, loaded_net_source, discrepancy_kg,
                          items, discrepancies, notes, lon, lat, inside_geofence, override_reason,
                          evidence_seq, evidence_hash, signature_sha256)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
    ON CONFLICT (load_id) DO NOTHING
    RETURNING *
), received AS (
    UPDATE loads SET status = 'received', updated_at = now() WHERE id = (SELECT load_id FROM r)
), ended AS (
    UPDATE load_tracking SET ended_at = $6 WHERE load_id = (SELECT load_id FROM r)
), announced AS (
    INSERT INTO events (type, org_ids, subject_type, subject_id, actor_user_id, data)
    SELECT $22, $23, $24, $25, $26, $27 FROM r
)
SELECT r.*, j.status AS job_status FROM r JOIN jobs j ON j.id = r.job_id"""

# The job is completed once none of its loads is left to receive, and `job.completed` ($2-$7,
# events.PendingEvent's order) written with it.
COMPLETE_JOB = """
WITH completed AS (
    UPDATE jobs SET status = 'completed', closed_at = now()
    WHERE id = $1 AND status IN ('awarded', 'dispatched')
      AND NOT EXISTS (SELECT 1 FROM loads WHERE job_id = $1 AND status NOT IN ('received', 'cancelled'))
    RETURNING id
)
INSERT INTO events (type, org_ids, subject_type, subject_id, actor_user_id, data)
SELECT $2, $3, $4, $5, $6, $7 FROM completed
RETURNING id"""

# The receipt's two messages, to the load's watchers and to its driver, in one statement.
NOTIFY_RECEIVED = "SELECT pg_notify($1, $2), pg_notify($3, $4)"

RECEIPT = """
SELECT r.*, j.status AS job_status FROM receipts r JOIN jobs j ON j.id = r.job_id WHERE r.load_id = $1"""

RECEIPTS_OF = """
SELECT r.*, j.status AS job_status FROM receipts r JOIN jobs j ON j.id = r.job_id
WHERE r.load_id = ANY($1::uuid[])"""
