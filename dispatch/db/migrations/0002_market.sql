-- The freight market: sites, jobs, bids, pickup authorizations, gate verifications, carriers'
-- saved market areas.

-- cube is a trusted extension (a database owner may install it, no superuser needed).
CREATE EXTENSION IF NOT EXISTS cube;

-- A position as a 3-D point in metres on the mean-radius sphere (like earthdistance's
-- ll_to_earth, which needs a superuser to install). GiST indexes on it answer "within r metres"
-- (a box test) and "nearest first" (KNN on the chord, which orders like the great-circle).
CREATE FUNCTION earth_point(lat float8, lon float8) RETURNS cube
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN cube(ARRAY[
        6371008.8 * cos(radians(lat)) * cos(radians(lon)),
        6371008.8 * cos(radians(lat)) * sin(radians(lon)),
        6371008.8 * sin(radians(lat))]);

-- Great-circle metres between two earth_points, from their chord.
CREATE FUNCTION earth_distance_m(a cube, b cube) RETURNS float8
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN 2 * 6371008.8 * asin(least(1.0, cube_distance(a, b) / (2 * 6371008.8)));

-- Who authorizes carriers when this organization owns the goods at pickup: automatically on
-- award, or by hand.
ALTER TABLE organizations ADD COLUMN auto_authorize_pickup boolean NOT NULL DEFAULT true;

CREATE TABLE sites (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    address       text NOT NULL CHECK (length(address) BETWEEN 1 AND 500),
    -- NaN fails BETWEEN in PostgreSQL (it sorts above every number), so it is refused here too.
    lon           float8 NOT NULL CHECK (lon BETWEEN -180 AND 180),
    lat           float8 NOT NULL CHECK (lat BETWEEN -90 AND 90),
    geofence      jsonb NOT NULL,         -- a GeoJSON Polygon, validated by geo.parse_polygon
    timezone      text NOT NULL,          -- IANA name, validated by the application
    opening_hours jsonb NOT NULL DEFAULT '[]',
    -- Other organizations may name a shared site as a job's origin or destination.
    shared        boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, name)
);
CREATE INDEX sites_shared_idx ON sites (name) WHERE shared;

CREATE TABLE docks (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id       uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
    -- Empty: any vehicle type.
    vehicle_types text[] NOT NULL DEFAULT '{}',
    active        boolean NOT NULL DEFAULT true,
    UNIQUE (site_id, name)
);

CREATE TABLE jobs (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    reference            text CHECK (length(reference) <= 100),
    poster_org_id        uuid NOT NULL REFERENCES organizations (id),
    shipper_org_id       uuid NOT NULL REFERENCES organizations (id),
    consignee_org_id     uuid REFERENCES organizations (id),
    goods_owner          text NOT NULL CHECK (goods_owner IN ('shipper', 'consignee')),
    origin_site_id       uuid NOT NULL REFERENCES sites (id),
    -- Copied from the site so the market search needs the jobs table alone.
    origin_lon           float8 NOT NULL CHECK (origin_lon BETWEEN -180 AND 180),
    origin_lat           float8 NOT NULL CHECK (origin_lat BETWEEN -90 AND 90),
    destination_site_id  uuid REFERENCES sites (id),
    destination_address  text NOT NULL,
    destination_lon      float8 NOT NULL CHECK (destination_lon BETWEEN -180 AND 180),
    destination_lat      float8 NOT NULL CHECK (destination_lat BETWEEN -90 AND 90),
    destination_geofence jsonb NOT NULL,
    distance_m           float8 NOT NULL CHECK (distance_m >= 0),
    cargo_kind           text NOT NULL CHECK (cargo_kind IN ('bulk', 'items')),
    cargo                jsonb NOT NULL,
    total_weight_kg      float8 NOT NULL CHECK (total_weight_kg > 0),
    total_volume_m3      float8 NOT NULL CHECK (total_volume_m3 > 0),
    vehicle_type         text NOT NULL,
    pickup_from          timestamptz NOT NULL,
    pickup_until         timestamptz NOT NULL,
    deliver_by           timestamptz NOT NULL,
    mode                 text NOT NULL CHECK (mode IN ('grab', 'auction')),
    currency             text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    price_minor          bigint CHECK (price_minor > 0),
    ceiling_minor        bigint CHECK (ceiling_minor > 0),
    min_step_minor       bigint NOT NULL DEFAULT 1 CHECK (min_step_minor > 0),
    deadline             timestamptz NOT NULL,
    status               text NOT NULL DEFAULT 'open'
                         CHECK (status IN ('open', 'awarded', 'dispatched', 'completed', 'expired', 'cancelled')),
    carrier_org_id       uuid REFERENCES organizations (id),
    award_price_minor    bigint,
    winning_bid_id       uuid,
    awarded_at           timestamptz,
    closed_at            timestamptz,
    notes                text CHECK (length(notes) <= 2000),
    created_by           uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    CHECK (pickup_until > pickup_from AND deliver_by > pickup_from AND deadline <= pickup_until),
    CHECK (mode = 'grab' AND price_minor IS NOT NULL AND ceiling_minor IS NULL
           OR mode = 'auction' AND price_minor IS NULL),
    CHECK (status NOT IN ('awarded', 'dispatched', 'completed')
           OR carrier_org_id IS NOT NULL AND award_price_minor IS NOT NULL AND awarded_at IS NOT NULL),
    CHECK (poster_org_id = shipper_org_id OR poster_org_id = consignee_org_id),
    CHECK (goods_owner = 'shipper' OR consignee_org_id IS NOT NULL)
);
-- The market search: open jobs by distance of their origin (box test and nearest-first).
CREATE INDEX jobs_open_origin_idx ON jobs USING gist (earth_point(origin_lat, origin_lon)) WHERE status = 'open';
-- The closer's claim query: open jobs whose deadline has passed.
CREATE INDEX jobs_open_deadline_idx ON jobs (deadline) WHERE status = 'open';
CREATE INDEX jobs_open_pickup_idx ON jobs (pickup_from, id) WHERE status = 'open';
CREATE INDEX jobs_poster_idx ON jobs (poster_org_id, created_at);
CREATE INDEX jobs_shipper_idx ON jobs (shipper_org_id, created_at);
CREATE INDEX jobs_consignee_idx ON jobs (consignee_org_id, created_at);
CREATE INDEX jobs_carrier_idx ON jobs (carrier_org_id, created_at);

CREATE TABLE bids (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    job_id         uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    carrier_org_id uuid NOT NULL REFERENCES organizations (id),
    amount_minor   bigint NOT NULL CHECK (amount_minor > 0),
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'won', 'lost', 'withdrawn')),
    -- When the current amount was offered: equal amounts rank by it, earliest first.
    placed_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by     uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
-- One live bid per carrier and job.
CREATE UNIQUE INDEX bids_one_active_idx ON bids (job_id, carrier_org_id) WHERE status = 'active';
-- The ranking: lowest amount, then earliest.
CREATE INDEX bids_rank_idx ON bids (job_id, amount_minor, placed_at, id) WHERE status = 'active';
CREATE INDEX bids_carrier_idx ON bids (carrier_org_id, created_at);
ALTER TABLE jobs ADD FOREIGN KEY (winning_bid_id) REFERENCES bids (id);

-- The goods owner's permission for the carrier to collect. The code is derived from the server's
-- secret and the id (so it can be shown again), and stored only as a hash for the gate's lookup.
CREATE TABLE pickup_authorizations (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    job_id             uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    issuer_org_id      uuid NOT NULL REFERENCES organizations (id),
    carrier_org_id     uuid NOT NULL REFERENCES organizations (id),
    site_id            uuid NOT NULL REFERENCES sites (id),
    code_hash          bytea UNIQUE,
    valid_from         timestamptz NOT NULL,
    valid_until        timestamptz NOT NULL,
    -- Empty: any plate / any driver of the carrier.
    allowed_plates     text[] NOT NULL DEFAULT '{}',
    allowed_driver_ids uuid[] NOT NULL DEFAULT '{}',
    created_by         uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    revoked_at         timestamptz,
    revoke_reason      text CHECK (length(revoke_reason) <= 500),
    CHECK (valid_until > valid_from)
);
-- At most one authorization in force per job: a new one needs the old one revoked.
CREATE UNIQUE INDEX pickup_authorizations_live_idx ON pickup_authorizations (job_id) WHERE revoked_at IS NULL;

-- Every check at a gate, whatever its outcome.
CREATE TABLE gate_verifications (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id          uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    checked_by       uuid REFERENCES users (id) ON DELETE SET NULL,
    authorization_id uuid REFERENCES pickup_authorizations (id) ON DELETE SET NULL,
    plate            text NOT NULL,
    driver_id        uuid,
    result           text NOT NULL,
    checked_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX gate_verifications_site_idx ON gate_verifications (site_id, checked_at);

-- A carrier's saved areas of interest for the live feed: a circle or a polygon, with filters.
CREATE TABLE market_areas (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    center_lon    float8 CHECK (center_lon BETWEEN -180 AND 180),
    center_lat    float8 CHECK (center_lat BETWEEN -90 AND 90),
    radius_m      float8 CHECK (radius_m > 0),
    polygon       jsonb,
    vehicle_types text[] NOT NULL DEFAULT '{}',
    cargo_kinds   text[] NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((polygon IS NULL) = (radius_m IS NOT NULL AND center_lon IS NOT NULL AND center_lat IS NOT NULL))
);
CREATE INDEX market_areas_org_idx ON market_areas (org_id);
