-- Tenders (direct and waterfall) and awards withdrawn after the fact (given back by the carrier,
-- cancelled by the poster), with the re-tender that follows (dispatch/market/README.md).

-- A job being offered to chosen carriers is `tendering`: off the open market and its feed. A job
-- whose award was given back or cancelled is `returned`, waiting for its poster to re-tender it.
ALTER TABLE jobs DROP CONSTRAINT jobs_status_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_status_check CHECK (status IN (
    'open', 'tendering', 'awarded', 'dispatched', 'completed', 'expired', 'cancelled', 'returned'));
-- Carriers that failed the job (gave it back, or had the award cancelled): never offered it again,
-- and they cannot grab or bid on it.
ALTER TABLE jobs ADD COLUMN excluded_carrier_org_ids uuid[] NOT NULL DEFAULT '{}';

-- One tender round of a job: a ranked list of carriers, each offered the job in turn at `price_minor`
-- for `window_s` seconds; after the last, the job opens to the market (as its mode says) or expires.
CREATE TABLE tenders (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    job_id      uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    price_minor bigint NOT NULL CHECK (price_minor > 0),
    window_s    integer NOT NULL CHECK (window_s BETWEEN 1 AND 604800),
    then_do     text NOT NULL CHECK (then_do IN ('market', 'expire')),
    status      text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'accepted', 'exhausted', 'withdrawn')),
    created_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    ended_at    timestamptz
);
-- At most one running tender per job.
CREATE UNIQUE INDEX tenders_running_idx ON tenders (job_id) WHERE status = 'running';

CREATE TABLE tender_offers (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tender_id      uuid NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    job_id         uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    carrier_org_id uuid NOT NULL REFERENCES organizations (id),
    rank           integer NOT NULL CHECK (rank > 0),
    price_minor    bigint NOT NULL CHECK (price_minor > 0),
    -- pending: its turn has not come (the carrier sees nothing); offered: the carrier may accept
    -- until expires_at; then accepted, declined, timed_out; skipped: never offered (another carrier
    -- accepted first); withdrawn: the poster cancelled the job while it was offered or pending.
    state          text NOT NULL DEFAULT 'pending' CHECK (state IN (
                       'pending', 'offered', 'accepted', 'declined', 'timed_out', 'skipped', 'withdrawn')),
    offered_at     timestamptz,
    expires_at     timestamptz,
    answered_at    timestamptz,
    reason         text CHECK (length(reason) <= 500),
    UNIQUE (tender_id, rank),
    UNIQUE (tender_id, carrier_org_id),
    CHECK (state = 'pending' OR state = 'skipped' OR state = 'withdrawn' AND offered_at IS NULL
           OR offered_at IS NOT NULL AND expires_at IS NOT NULL)
);
-- One offer out at a time per job; the timeout loop's claim walks this index.
CREATE UNIQUE INDEX tender_offers_offered_idx ON tender_offers (job_id) WHERE state = 'offered';
CREATE INDEX tender_offers_due_idx ON tender_offers (expires_at) WHERE state = 'offered';
CREATE INDEX tender_offers_carrier_idx ON tender_offers (carrier_org_id, state);

-- Why an authorization was revoked when the award behind it was withdrawn: the gate says so.
ALTER TABLE pickup_authorizations ADD COLUMN revoke_cause text
    CHECK (revoke_cause IN ('award_given_back', 'award_cancelled'));

-- The driver's phone is told that a load was withdrawn with its award.
ALTER TABLE driver_messages DROP CONSTRAINT driver_messages_kind_check;
ALTER TABLE driver_messages ADD CONSTRAINT driver_messages_kind_check
    CHECK (kind IN ('dock_call', 'dispatcher', 'no_show', 'load_withdrawn'));
