-- What a driver's phone is told (a call to a dock, the dispatcher's text, a booking lapsed as a
-- no-show), kept so that an app that was offline catches up: GET /driver/v1/messages?after=<id>.
-- Each is stored in the transaction of the change that causes it (dispatch/gate/inbox.py).
CREATE TABLE driver_messages (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,  -- the carrier
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,          -- the driver
    load_id    uuid NOT NULL REFERENCES loads (id) ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('dock_call', 'dispatcher', 'no_show')),
    -- The app's catalogue key and its placeholders' values, so the phone can show it in its language;
    -- `text` is the same message in English.
    key        text NOT NULL CHECK (length(key) BETWEEN 1 AND 100),
    params     jsonb NOT NULL DEFAULT '{}',
    text       text NOT NULL CHECK (length(text) BETWEEN 1 AND 2000),
    dock       text,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- A driver's catching up: their messages after an id, oldest first.
CREATE INDEX driver_messages_driver_idx ON driver_messages (user_id, org_id, id);

-- One row per driver, locked (upserted) by every transaction that stores a message for them, before
-- it takes an id: a driver's messages then commit in the order of their ids, so a reader's `after`
-- cursor never passes over one that commits late.
CREATE TABLE driver_inboxes (
    user_id  uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    messages bigint NOT NULL DEFAULT 0
);
