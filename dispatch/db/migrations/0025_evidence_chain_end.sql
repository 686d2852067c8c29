-- The chain's end of a load (its last record's seq and hash) and its latest tare, for an appender
-- that holds the load's lock: read by the locking statement itself (dispatch/evidence/queries.py,
-- LOAD_FOR_APPEND), after the lock is granted, so an evidence post needs no statement of its own
-- for it. VOLATILE on purpose: under READ COMMITTED a volatile function's queries each take a fresh
-- snapshot, so they see a record that an appender the statement waited for committed; the calling
-- statement's own snapshot, taken before that wait, would not (the same reason the chain trigger
-- of 0005 sees the latest record). plpgsql: never inlined into the calling statement.
CREATE FUNCTION evidence_chain_end(
    for_load uuid, OUT seq integer, OUT hash bytea, OUT tare_seq integer, OUT tare_data jsonb
) LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    SELECT r.seq, r.hash INTO seq, hash
    FROM evidence_records r WHERE r.load_id = for_load ORDER BY r.seq DESC LIMIT 1;
    SELECT r.seq, r.data INTO tare_seq, tare_data
    FROM evidence_records r WHERE r.load_id = for_load AND r.kind = 'weighbridge_tare'
    ORDER BY r.seq DESC LIMIT 1;
END
$$;
