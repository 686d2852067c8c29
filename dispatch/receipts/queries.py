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
LOCK_TRIP = "SELECT * FROM load_tracking WHERE load_id = $1 FOR UPDATE"
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

# What the truck was loaded with, by the weighbridge: the latest gross weighing's net.
LOADED_NET = """
SELECT (data ->> 'net_kg')::bigint FROM evidence_records
WHERE load_id = $1 AND kind = 'weighbridge_gross' ORDER BY seq DESC LIMIT 1"""

# The photos already in the load's evidence, among $2.
PHOTOS_IN_EVIDENCE = """
SELECT DISTINCT data ->> 'sha256' FROM evidence_records
WHERE load_id = $1 AND kind = 'photo' AND data ->> 'sha256' = ANY($2::text[])"""

# The signature, if it is a PNG photo record in the load's evidence.
SIGNATURE_IN_EVIDENCE = """
SELECT 1 FROM evidence_records
WHERE load_id = $1 AND kind = 'photo' AND data ->> 'sha256' = $2 AND data ->> 'content_type' = 'image/png'
LIMIT 1"""

INSERT_RECEIPT = """
INSERT INTO receipts (load_id, job_id, consignee_org_id, confirmed_by, signer_name, received_at, condition,
                      received_weight_kg, loaded_net_kg, loaded_net_source, discrepancy_kg, items,
                      discrepancies, notes, lon, lat, inside_geofence, override_reason, evidence_seq,
                      evidence_hash, signature_sha256)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
ON CONFLICT (load_id) DO NOTHING
RETURNING load_id"""

SET_RECEIVED = "UPDATE loads SET status = 'received', updated_at = now() WHERE id = $1"

END_TRIP = "UPDATE load_tracking SET ended_at = $2 WHERE load_id = $1"

# The job is completed once none of its loads is left to receive.
COMPLETE_JOB = """
UPDATE jobs SET status = 'completed', closed_at = now()
WHERE id = $1 AND status IN ('awarded', 'dispatched')
  AND NOT EXISTS (SELECT 1 FROM loads WHERE job_id = $1 AND status NOT IN ('received', 'cancelled'))
RETURNING status"""

RECEIPT = """
SELECT r.*, j.status AS job_status FROM receipts r JOIN jobs j ON j.id = r.job_id WHERE r.load_id = $1"""

RECEIPTS_OF = """
SELECT r.*, j.status AS job_status FROM receipts r JOIN jobs j ON j.id = r.job_id
WHERE r.load_id = ANY($1::uuid[])"""
