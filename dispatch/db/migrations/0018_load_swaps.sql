-- A truck or driver swapped mid-job (dispatch/loads/README.md "Swapping a truck or driver").
-- The goods owner's approval of the load's current assignment, when the job's authorization names
-- plates or drivers and the assignment is not among them: NULL means none is needed.
ALTER TABLE loads
    ADD COLUMN approval text CHECK (approval IN ('pending', 'approved', 'refused')),
    ADD COLUMN approval_reason text,
    -- What the current assignment replaced (shown to the goods owner asked to approve it).
    ADD COLUMN previous_vehicle_id uuid REFERENCES vehicles (id),
    ADD COLUMN previous_driver_user_id uuid REFERENCES users (id);

-- The codes a reassignment retired (the hash only, as for live codes), so the gate can say why an
-- old code no longer works ("reassigned") instead of not knowing it.
CREATE TABLE load_retired_codes (
    code_hash   bytea PRIMARY KEY,
    load_id     uuid NOT NULL REFERENCES loads (id) ON DELETE CASCADE,
    version     integer NOT NULL,
    retired_at  timestamptz NOT NULL DEFAULT now()
);

-- The driver's phone is told of a swap: the load is now theirs, is no longer theirs, its truck
-- changed, or the goods owner decided on the swap (0017 added 'load_withdrawn': an award withdrawn).
ALTER TABLE driver_messages DROP CONSTRAINT driver_messages_kind_check;
ALTER TABLE driver_messages ADD CONSTRAINT driver_messages_kind_check CHECK (kind IN (
    'dock_call', 'dispatcher', 'no_show', 'load_assigned', 'load_unassigned', 'truck_changed',
    'swap_approved', 'swap_refused', 'load_withdrawn'));
