-- Fleet (vehicles, driver profiles) and loads: a job's confirmed split into truck loads, each
-- dispatched to a vehicle and a driver with its own pickup code.

-- btree_gist (trusted) lets an exclusion constraint mix "same vehicle" with "overlapping time".
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE vehicles (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id              uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- Normalized (upper case letters and digits) for uniqueness and gate checks; shown as given.
    plate               text NOT NULL CHECK (plate ~ '^[A-Z0-9]{2,15}$'),
    plate_display       text NOT NULL CHECK (length(plate_display) BETWEEN 2 AND 20),
    vehicle_type        text NOT NULL,
    capacity_kg         float8 NOT NULL CHECK (capacity_kg > 0),
    capacity_m3         float8 NOT NULL CHECK (capacity_m3 > 0),
    cost_per_trip_minor bigint NOT NULL DEFAULT 0 CHECK (cost_per_trip_minor >= 0),
    active              boolean NOT NULL DEFAULT true,
    created_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, plate),
    UNIQUE (org_id, id)
);

-- A driver is a member with the `drive` permission; this is the fleet's profile of them.
CREATE TABLE driver_profiles (
    org_id         uuid NOT NULL,
    user_id        uuid NOT NULL,
    phone          text NOT NULL CHECK (phone ~ '^\+?[0-9 ()-]{5,25}$'),
    licence_number text NOT NULL CHECK (length(licence_number) BETWEEN 3 AND 40),
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, user_id),
    FOREIGN KEY (org_id, user_id) REFERENCES memberships (org_id, user_id) ON DELETE CASCADE
);

-- The carrier's working plan for a job (one per job) until it is confirmed into loads.
CREATE TABLE load_plans (
    job_id         uuid PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    carrier_org_id uuid NOT NULL REFERENCES organizations (id),
    -- [{vehicle_id, trip, bulk_kg, items, weight_kg, volume_m3}], checked by the planner's rules.
    loads          jsonb NOT NULL,
    trips          integer NOT NULL CHECK (trips > 0),
    cost_minor     bigint NOT NULL,
    lower_bound    integer NOT NULL,
    optimal        boolean NOT NULL,
    method         text NOT NULL,
    edited         boolean NOT NULL DEFAULT false,
    confirmed_at   timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE loads (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    job_id             uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    carrier_org_id     uuid NOT NULL REFERENCES organizations (id),
    seq                integer NOT NULL CHECK (seq > 0),
    vehicle_id         uuid NOT NULL,
    trip               integer NOT NULL CHECK (trip > 0),
    driver_user_id     uuid,
    bulk_kg            bigint CHECK (bulk_kg > 0),
    items              integer[],
    weight_kg          float8 NOT NULL CHECK (weight_kg > 0),
    volume_m3          float8 NOT NULL CHECK (volume_m3 > 0),
    -- When this load is to be picked up: the job's pickup window (slots narrow it later).
    pickup_window      tstzrange NOT NULL,
    status             text NOT NULL DEFAULT 'planned' CHECK (status IN (
                           'planned', 'assigned', 'booked', 'at_gate', 'loading', 'in_transit', 'arrived',
                           'received', 'cancelled')),
    -- Bumped on every (re)assignment: the pickup code is derived from it, so a reassigned load's
    -- old code stops working.
    assignment_version integer NOT NULL DEFAULT 0,
    code_hash          bytea UNIQUE,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (job_id, seq),
    -- The vehicle must be the carrier's own.
    FOREIGN KEY (carrier_org_id, vehicle_id) REFERENCES vehicles (org_id, id),
    FOREIGN KEY (carrier_org_id, driver_user_id) REFERENCES driver_profiles (org_id, user_id),
    CHECK ((bulk_kg IS NULL) <> (items IS NULL)),
    CHECK (status IN ('planned', 'cancelled') OR driver_user_id IS NOT NULL),
    -- One vehicle, one driver: never on loads of two different jobs whose pickup windows overlap.
    -- (Repeat trips of one job share its window and are sequenced by their trip number.)
    EXCLUDE USING gist (vehicle_id WITH =, job_id WITH <>, pickup_window WITH &&)
        WHERE (status NOT IN ('received', 'cancelled')),
    EXCLUDE USING gist (driver_user_id WITH =, job_id WITH <>, pickup_window WITH &&)
        WHERE (driver_user_id IS NOT NULL AND status NOT IN ('received', 'cancelled'))
);
CREATE INDEX loads_driver_idx ON loads (driver_user_id, status);
CREATE INDEX loads_carrier_idx ON loads (carrier_org_id, created_at);
