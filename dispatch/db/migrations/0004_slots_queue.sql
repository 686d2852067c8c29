-- Pickup slots and the gate queue; idempotency keys for the driver app.

-- A site's slot calendar. Opening hours are the site's own (sites.opening_hours, local time).
CREATE TABLE site_calendars (
    site_id                uuid PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
    slot_minutes           integer NOT NULL CHECK (slot_minutes BETWEEN 5 AND 480),
    places_per_slot        integer NOT NULL CHECK (places_per_slot BETWEEN 1 AND 200),
    min_lead_minutes       integer NOT NULL DEFAULT 0 CHECK (min_lead_minutes >= 0),
    max_lead_days          integer NOT NULL DEFAULT 30 CHECK (max_lead_days BETWEEN 1 AND 365),
    -- No booking, rescheduling or cancelling within this many minutes of the slot's start.
    cutoff_minutes         integer NOT NULL DEFAULT 60 CHECK (cutoff_minutes >= 0),
    -- A booking with no check-in by slot end + grace is a no-show.
    grace_minutes          integer NOT NULL DEFAULT 30 CHECK (grace_minutes >= 0),
    -- Arriving up to this late still counts as on time for the slot.
    late_tolerance_minutes integer NOT NULL DEFAULT 15 CHECK (late_tolerance_minutes >= 0),
    closed_dates           date[] NOT NULL DEFAULT '{}',
    updated_at             timestamptz NOT NULL DEFAULT now()
);

-- How full each slot is. The CHECK is what makes overbooking impossible: a booking increments
-- `booked` with a conditional upsert, which the row lock serializes.
CREATE TABLE slot_usage (
    site_id    uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    slot_start timestamptz NOT NULL,
    places     integer NOT NULL CHECK (places > 0),
    booked     integer NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, slot_start),
    CHECK (booked BETWEEN 0 AND places)
);

CREATE TABLE slot_bookings (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    load_id    uuid NOT NULL REFERENCES loads (id) ON DELETE CASCADE,
    site_id    uuid NOT NULL REFERENCES sites (id),
    slot_start timestamptz NOT NULL,
    slot_end   timestamptz NOT NULL CHECK (slot_end > slot_start),
    status     text NOT NULL DEFAULT 'booked'
               CHECK (status IN ('booked', 'checked_in', 'served', 'cancelled', 'no_show')),
    booked_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- One live booking per load.
CREATE UNIQUE INDEX slot_bookings_live_idx ON slot_bookings (load_id) WHERE status IN ('booked', 'checked_in');
-- The no-show loop's claim: bookings past their end.
CREATE INDEX slot_bookings_due_idx ON slot_bookings (slot_end) WHERE status = 'booked';

CREATE TABLE queue_tickets (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id              uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    load_id              uuid NOT NULL REFERENCES loads (id) ON DELETE CASCADE,
    booking_id           uuid REFERENCES slot_bookings (id),
    slot_start           timestamptz,
    arrived_at           timestamptz NOT NULL,
    arrival              text NOT NULL CHECK (arrival IN ('on_time', 'early', 'late', 'walk_in')),
    checked_in_by        text NOT NULL CHECK (checked_in_by IN ('driver', 'staff')),
    vehicle_type         text NOT NULL,
    status               text NOT NULL DEFAULT 'waiting'
                         CHECK (status IN ('waiting', 'called', 'loading', 'loaded', 'departed')),
    dock_id              uuid REFERENCES docks (id),
    called_at            timestamptz,
    loading_started_at   timestamptz,
    loading_completed_at timestamptz,
    departed_at          timestamptz,
    CHECK (status = 'waiting' OR dock_id IS NOT NULL)
);
-- One ticket per load in the yard; one truck per dock at a time.
CREATE UNIQUE INDEX queue_tickets_live_idx ON queue_tickets (load_id) WHERE status <> 'departed';
CREATE UNIQUE INDEX queue_tickets_dock_idx ON queue_tickets (dock_id) WHERE status IN ('called', 'loading', 'loaded');
CREATE INDEX queue_tickets_site_idx ON queue_tickets (site_id, status);

-- The driver app's retries: the first answer to (credential, key) is kept and replayed.
CREATE TABLE idempotency_keys (
    credential_id uuid NOT NULL,
    key           text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    request_hash  bytea NOT NULL,
    status        integer,
    content_type  text,
    body          bytea,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (credential_id, key)
);
CREATE INDEX idempotency_keys_age_idx ON idempotency_keys (created_at);
