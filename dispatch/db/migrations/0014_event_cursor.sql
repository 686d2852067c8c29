-- A cursor over the outbox that never skips an event that commits late. An event's id is taken
-- from the identity at INSERT, not at COMMIT: a transaction holding id 99 may commit after one
-- holding id 100 was read, so "id > cursor" alone would skip 99 for ever. Each event now records the
-- transaction that wrote it (xid8, never wraps); readers order by (tx, id) and read only events of
-- transactions older than their snapshot's xmin, all of which have ended: no event can later appear
-- before that point (dispatch/events/feed.py).
ALTER TABLE events ADD COLUMN tx xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX events_tx_id_idx ON events (tx, id);
