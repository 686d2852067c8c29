-- Webhooks (dispatch/webhooks/README.md): an organization's endpoints, one delivery row per event
-- and endpoint, one attempt row per HTTP request made.
CREATE TABLE webhook_endpoints (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id         uuid NOT NULL REFERENCES organizations (id),
    url            text NOT NULL,
    -- NULL: every event type.
    event_types    text[],
    description    text NOT NULL DEFAULT '',
    paused         boolean NOT NULL DEFAULT false,
    -- Set when a delivery gave up past the retry horizon; cleared when the endpoint is resumed.
    disabled_at    timestamptz,
    -- "whsec_<base64>" (Standard Webhooks); after a rotation the previous one still signs until
    -- previous_until, so a receiver can switch without refusing a delivery.
    secret         text NOT NULL,
    previous_secret text,
    previous_until timestamptz,
    -- Where the fan-out has read the feed to, for this endpoint ((tx, id) of dispatch.events.Cursor).
    cursor_tx      xid8 NOT NULL,
    cursor_id      bigint NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    deleted_at     timestamptz
);
CREATE INDEX webhook_endpoints_org_idx ON webhook_endpoints (org_id) WHERE deleted_at IS NULL;

CREATE TABLE webhook_deliveries (
    -- Made in feed order per endpoint: a lower id of the same subject is sent first.
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint_id     uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id        bigint NOT NULL,
    event_type      text NOT NULL,
    -- "<subject type>:<subject id>": the unit of ordering.
    subject         text NOT NULL,
    -- The EventOut JSON, exactly the bytes that are signed and sent.
    body            text NOT NULL,
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- A worker's claim: another worker may take the delivery once it has expired (its worker died).
    claim           uuid,
    claimed_until   timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_subject_idx ON webhook_deliveries (endpoint_id, subject, id)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id);

CREATE TABLE webhook_attempts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id     bigint NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempted_at    timestamptz NOT NULL DEFAULT now(),
    -- NULL: no HTTP answer (refused address, connection failed, timed out).
    status_code     int,
    latency_ms      int NOT NULL,
    ok              boolean NOT NULL,
    -- The first bytes of the answer, or why there was none.
    response_excerpt text NOT NULL DEFAULT ''
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, id);
