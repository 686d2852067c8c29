-- Lateness and deviation alerts (dispatch/tracking/README.md, "Alerts"), and tracking on the way to
-- the pickup site.

-- The delivery trip's alert state, moved on by each GPS batch with the rest of the trip state:
-- whether `load.late_delivery` stands (it is raised again only after the ETA recovered), how many
-- fixes in a row were outside the route's corridor, and whether `load.off_route` stands.
ALTER TABLE load_tracking
    ADD COLUMN late_alerted  boolean NOT NULL DEFAULT false,
    ADD COLUMN outside_count integer NOT NULL DEFAULT 0 CHECK (outside_count >= 0),
    ADD COLUMN off_route     boolean NOT NULL DEFAULT false;

-- The drive to the pickup site, from the driver's "start towards the pickup" until the check-in at
-- the gate. A leg of its own, beside the delivery trip (load_tracking, positions), so that the
-- delivery trip's rules (seq, duplicates, receipt, the trip's start) are untouched by it.
CREATE TABLE load_approach (
    load_id          uuid PRIMARY KEY REFERENCES loads (id) ON DELETE CASCADE,
    started_at       timestamptz NOT NULL,
    points_total     bigint NOT NULL DEFAULT 0,
    last_recorded_at timestamptz,
    last_lon         float8,
    last_lat         float8,
    last_accuracy_m  float8,
    speed_mps        float8,
    eta_at           timestamptz,
    remaining_m      float8,
    eta_computed_at  timestamptz,
    -- Whether `load.late_for_slot` stands for the booked slot (raised again only after recovering).
    late_alerted     boolean NOT NULL DEFAULT false,
    CHECK ((last_lon IS NULL) = (last_recorded_at IS NULL))
);

-- The approach's fixes: (load, recorded_at) identifies one, as for the delivery trip. Few per load
-- (an hour or two of driving), so not partitioned; they go with their load.
CREATE TABLE approach_positions (
    load_id     uuid NOT NULL REFERENCES load_approach (load_id) ON DELETE CASCADE,
    recorded_at timestamptz NOT NULL,
    lon         float8 NOT NULL CHECK (lon BETWEEN -180 AND 180),
    lat         float8 NOT NULL CHECK (lat BETWEEN -90 AND 90),
    accuracy_m  real NOT NULL,
    speed_mps   real,
    heading_deg real,
    battery_pct smallint,
    moving      boolean,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (load_id, recorded_at)
);
