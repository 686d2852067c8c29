-- Live tracking: GPS positions (partitioned by day), each load's trip state, share links, receipts.
-- The rules are in dispatch/tracking/README.md.

-- One row per load from departure: the trip's running state, updated by every GPS batch. Kept out of
-- `loads` so the hot update touches a narrow row with no GiST indexes (HOT updates).
CREATE TABLE load_tracking (
    load_id          uuid PRIMARY KEY REFERENCES loads (id) ON DELETE CASCADE,
    departed_at      timestamptz NOT NULL,
    -- The last seq given to a stored point of the load; bumped (under this row's lock) by each batch,
    -- so seq order is commit order and a watcher's cursor never skips a point.
    last_seq         bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    points_total     bigint NOT NULL DEFAULT 0,
    -- The newest fix by recorded_at (late points older than it are stored but change no state).
    last_recorded_at timestamptz,
    last_lon         float8,
    last_lat         float8,
    last_accuracy_m  float8,
    last_speed_mps   float8,
    last_heading_deg float8,
    -- The speed estimate (EWMA) and the ETA computed from it.
    speed_mps        float8,
    eta_at           timestamptz,
    remaining_m      float8,
    progress         float8,
    eta_computed_at  timestamptz,
    -- Geofence state and the stop detector's anchor.
    left_origin_at   timestamptz,
    arrived_at       timestamptz,
    still_lon        float8,
    still_lat        float8,
    still_since      timestamptz,
    stop_alerted     boolean NOT NULL DEFAULT false,
    -- Set by the receipt, in its transaction: no point is stored after it.
    ended_at         timestamptz,
    CHECK ((last_lon IS NULL) = (last_recorded_at IS NULL))
);

-- GPS fixes. (load, recorded_at) identifies a fix: a phone's retry or a repeated point is stored
-- once. Partitioned by day on recorded_at so retention drops whole partitions.
CREATE TABLE positions (
    load_id     uuid NOT NULL,
    recorded_at timestamptz NOT NULL,
    seq         bigint NOT NULL,
    lon         float8 NOT NULL CHECK (lon BETWEEN -180 AND 180),
    lat         float8 NOT NULL CHECK (lat BETWEEN -90 AND 90),
    accuracy_m  real NOT NULL,
    speed_mps   real,
    heading_deg real,
    battery_pct smallint,
    moving      boolean,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (load_id, recorded_at)
) PARTITION BY RANGE (recorded_at);
-- Resuming a watcher and paging a trail: a load's points in seq order.
CREATE INDEX positions_seq_idx ON positions (load_id, seq);
-- A safety net: a point outside every day partition is still stored (the partition keeper logs it).
CREATE TABLE positions_default PARTITION OF positions DEFAULT;

-- Create the missing day partitions for [from_day, to_day]; returns how many were created.
-- Serialized by an advisory lock: several workers run it at start-up and in their claim loops.
CREATE FUNCTION ensure_position_partitions(from_day date, to_day date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    day     date := from_day;
    made    integer := 0;
    name    text;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('positions partitions'));
    WHILE day <= to_day LOOP
        name := 'positions_' || to_char(day, 'YYYYMMDD');
        IF to_regclass(name) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF positions FOR VALUES FROM (%L) TO (%L)',
                name, day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
            made := made + 1;
        END IF;
        day := day + 1;
    END LOOP;
    RETURN made;
END
$$;

-- Drop the day partitions wholly before before_day; returns how many were dropped.
CREATE FUNCTION drop_position_partitions(before_day date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    part    record;
    dropped integer := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('positions partitions'));
    FOR part IN
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'positions'::regclass AND c.relname ~ '^positions_[0-9]{8}$'
          AND to_date(substr(c.relname, 11), 'YYYYMMDD') < before_day
    LOOP
        EXECUTE format('DROP TABLE %I', part.relname);
        dropped := dropped + 1;
    END LOOP;
    RETURN dropped;
END
$$;

SELECT ensure_position_partitions((now() AT TIME ZONE 'UTC')::date - 8, (now() AT TIME ZONE 'UTC')::date + 2);

-- Share links: watch one job (or one of its loads) without an account, until expires_at.
CREATE TABLE share_links (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    job_id      uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    load_id     uuid REFERENCES loads (id) ON DELETE CASCADE,
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    label       text NOT NULL DEFAULT '' CHECK (length(label) <= 100),
    token_hash  bytea NOT NULL UNIQUE,
    expires_at  timestamptz NOT NULL,
    created_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX share_links_job_idx ON share_links (job_id, created_at);

-- The proof of delivery: one per load (the key settles racing confirmations).
CREATE TABLE receipts (
    load_id            uuid PRIMARY KEY REFERENCES loads (id),
    job_id             uuid NOT NULL REFERENCES jobs (id),
    consignee_org_id   uuid NOT NULL REFERENCES organizations (id),
    confirmed_by       uuid NOT NULL REFERENCES users (id),
    signer_name        text NOT NULL,
    received_at        timestamptz NOT NULL,
    condition          text NOT NULL CHECK (condition IN ('good', 'damaged')),
    received_weight_kg bigint NOT NULL CHECK (received_weight_kg >= 0),
    loaded_net_kg      bigint NOT NULL,
    loaded_net_source  text NOT NULL CHECK (loaded_net_source IN ('weighbridge', 'plan')),
    discrepancy_kg     bigint NOT NULL,
    items              jsonb,
    discrepancies      jsonb NOT NULL DEFAULT '[]',
    notes              text,
    lon                float8,
    lat                float8,
    inside_geofence    boolean NOT NULL,
    override_reason    text,
    evidence_seq       integer NOT NULL,
    evidence_hash      bytea NOT NULL,
    CHECK (inside_geofence OR override_reason IS NOT NULL)
);
CREATE INDEX receipts_job_idx ON receipts (job_id);

-- The proof of delivery is the last record of the load's evidence chain.
ALTER TABLE evidence_records DROP CONSTRAINT evidence_records_kind_check;
ALTER TABLE evidence_records ADD CONSTRAINT evidence_records_kind_check CHECK (kind IN (
    'weighbridge_tare', 'weighbridge_gross', 'seal', 'photo', 'sample', 'note', 'receipt'));
