-- Wake the events API's long-polls when events commit: each new event notifies the channel
-- `events` with its organizations (comma-separated UUIDs), delivered at commit (never for a
-- rolled-back event). A waiter re-reads the feed when one of its organization's events was notified
-- (dispatch/event_api/waiting.py); the feed itself stays the only source of what to answer.
CREATE FUNCTION events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('events', array_to_string(NEW.org_ids, ','));
    RETURN NULL;
END
$$;

CREATE TRIGGER events_notify AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION events_notify();
