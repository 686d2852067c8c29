-- Loading evidence: per load, an append-only chain of records (weights, seals, photos, samples,
-- notes), each carrying the SHA-256 of its predecessor's hash and its own canonical form. The
-- recipe and what it proves are in dispatch/evidence/README.md. Depends on 0001-0003 only.

CREATE TABLE evidence_records (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- No cascade: a load with evidence cannot be deleted (the delete fails on this key).
    load_id         uuid NOT NULL REFERENCES loads (id),
    -- 1, 2, 3, ... per load, no gaps (the insert trigger below refuses anything else).
    seq             integer NOT NULL CHECK (seq > 0),
    kind            text NOT NULL CHECK (kind IN (
                        'weighbridge_tare', 'weighbridge_gross', 'seal', 'photo', 'sample', 'note')),
    data            jsonb NOT NULL CHECK (jsonb_typeof(data) = 'object'),
    recorded_by     uuid NOT NULL REFERENCES users (id),
    recorder_org_id uuid NOT NULL REFERENCES organizations (id),
    -- Set by the service (it is hashed), never by a default.
    recorded_at     timestamptz NOT NULL,
    lon             float8 CHECK (lon BETWEEN -180 AND 180),
    lat             float8 CHECK (lat BETWEEN -90 AND 90),
    -- NULL for the first record of a load; otherwise the previous record's hash.
    prev_hash       bytea CHECK (octet_length(prev_hash) = 32),
    hash            bytea NOT NULL CHECK (octet_length(hash) = 32),
    -- Also the index every read of a load's chain uses.
    UNIQUE (load_id, seq),
    CHECK ((lon IS NULL) = (lat IS NULL)),
    CHECK ((seq = 1) = (prev_hash IS NULL))
);
-- Serving a photo: which loads (and so which parties) reference this sha256.
CREATE INDEX evidence_records_photo_idx ON evidence_records ((data ->> 'sha256')) WHERE kind = 'photo';

-- Append-only: updates, deletes and truncation are refused whoever asks. (A superuser can still
-- disable triggers; the hash chain is what makes such a change detectable.)
CREATE FUNCTION evidence_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_LEVEL = 'ROW' THEN
        RAISE EXCEPTION 'evidence is append-only: % of evidence record (load %, seq %) refused',
            TG_OP, OLD.load_id, OLD.seq
            USING HINT = 'Add a new record (for instance a note) that corrects it.';
    END IF;
    RAISE EXCEPTION 'evidence is append-only: % of evidence_records refused', TG_OP;
END
$$;
CREATE TRIGGER evidence_records_no_change BEFORE UPDATE OR DELETE ON evidence_records
    FOR EACH ROW EXECUTE FUNCTION evidence_records_append_only();
CREATE TRIGGER evidence_records_no_truncate BEFORE TRUNCATE ON evidence_records
    FOR EACH STATEMENT EXECUTE FUNCTION evidence_records_append_only();

-- Under the service's own checks: a new record must extend its load's chain, i.e. take the next
-- seq and name the last record's hash as prev_hash. (The service holds the load row lock, so
-- appenders take turns; UNIQUE (load_id, seq) settles anyone who does not.)
CREATE FUNCTION evidence_records_extend_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last_seq  integer;
    last_hash bytea;
BEGIN
    SELECT seq, hash INTO last_seq, last_hash
    FROM evidence_records WHERE load_id = NEW.load_id ORDER BY seq DESC LIMIT 1;
    IF NEW.seq <> coalesce(last_seq, 0) + 1 OR NEW.prev_hash IS DISTINCT FROM last_hash THEN
        RAISE EXCEPTION 'evidence record (load %, seq %) does not extend the chain, whose last record is seq %',
            NEW.load_id, NEW.seq, coalesce(last_seq, 0);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER evidence_records_chain BEFORE INSERT ON evidence_records
    FOR EACH ROW EXECUTE FUNCTION evidence_records_extend_chain();
