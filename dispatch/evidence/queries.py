"""Evidence SQL. Every read is scoped to the caller's organization ($2) being a party of the job."""

# The load and its job for an appender, when the caller's organization is a party of the job.
# The load row's lock makes appenders to one load take turns (seq and prev_hash are read under
# it); NO KEY UPDATE is enough for that and does not block rows that merely reference the load.
LOAD_FOR_APPEND = """
SELECT l.id, l.status, l.job_id,
       j.poster_org_id, j.shipper_org_id, j.consignee_org_id, j.carrier_org_id
FROM loads l
JOIN jobs j ON j.id = l.job_id
WHERE l.id = $1 AND $2 IN (j.poster_org_id, j.shipper_org_id, j.consignee_org_id, j.carrier_org_id)
FOR NO KEY UPDATE OF l"""

# The load as its parties see it, for reading and exporting its evidence.
LOAD_FOR_PARTY = """
SELECT l.id, l.job_id, j.reference AS job_reference, l.seq, l.status, l.weight_kg,
       v.plate_display AS vehicle_plate, u.name AS driver_name
FROM loads l
JOIN jobs j ON j.id = l.job_id
JOIN vehicles v ON v.id = l.vehicle_id
LEFT JOIN users u ON u.id = l.driver_user_id
WHERE l.id = $1 AND $2 IN (j.poster_org_id, j.shipper_org_id, j.consignee_org_id, j.carrier_org_id)"""

# The chain's end: the next record's seq follows it and its prev_hash is this hash.
LAST_RECORD = "SELECT seq, hash FROM evidence_records WHERE load_id = $1 ORDER BY seq DESC LIMIT 1"

# For a gross weighing: the chain's end and the tare it is netted against (the latest one), in one
# read after the load's lock.
CHAIN_END_AND_TARE = """
SELECT last.seq, last.hash, tare.seq AS tare_seq, tare.data AS tare_data
FROM (SELECT 1) one
LEFT JOIN LATERAL (SELECT seq, hash FROM evidence_records WHERE load_id = $1
                   ORDER BY seq DESC LIMIT 1) last ON true
LEFT JOIN LATERAL (SELECT seq, data FROM evidence_records WHERE load_id = $1 AND kind = 'weighbridge_tare'
                   ORDER BY seq DESC LIMIT 1) tare ON true"""

_RECORD_COLUMNS = """
SELECT r.load_id, r.seq, r.kind, r.data, r.recorded_by, u.name AS recorded_by_name, r.recorder_org_id,
       r.recorded_at, r.lon, r.lat, r.prev_hash, r.hash
FROM evidence_records r
LEFT JOIN users u ON u.id = r.recorded_by"""

# The record ($1-$11) and its `evidence.recorded` event ($12-$17, events.PendingEvent's order) in
# one statement, answering the record as stored (RETURNING: what the database made of the values,
# which the caller hashes again) with the recorder's name: one round trip instead of three.
INSERT_RECORD = """
WITH r AS (
    INSERT INTO evidence_records (load_id, seq, kind, data, recorded_by, recorder_org_id, recorded_at, lon,
                                  lat, prev_hash, hash)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
    RETURNING *
), announced AS (
    INSERT INTO events (type, org_ids, subject_type, subject_id, actor_user_id, data)
    VALUES ($12, $13, $14, $15, $16, $17)
)
SELECT r.load_id, r.seq, r.kind, r.data, r.recorded_by, u.name AS recorded_by_name, r.recorder_org_id,
       r.recorded_at, r.lon, r.lat, r.prev_hash, r.hash
FROM r
LEFT JOIN users u ON u.id = r.recorded_by"""

# A load's chain in order.
RECORDS = _RECORD_COLUMNS + " WHERE r.load_id = $1 ORDER BY r.seq"

# The head hash announced (in the outbox, to every party) each time a record was added.
ANNOUNCED_HEADS = """
SELECT id, data FROM events
WHERE subject_type = 'load' AND subject_id = $1 AND type = 'evidence.recorded'
ORDER BY id"""

# A photo's content type, if some load referencing it belongs to a job of the caller's party.
PHOTO_FOR_PARTY = """
SELECT r.data ->> 'content_type' AS content_type
FROM evidence_records r
JOIN loads l ON l.id = r.load_id
JOIN jobs j ON j.id = l.job_id
WHERE r.kind = 'photo' AND r.data ->> 'sha256' = $1
  AND $2 IN (j.poster_org_id, j.shipper_org_id, j.consignee_org_id, j.carrier_org_id)
LIMIT 1"""
