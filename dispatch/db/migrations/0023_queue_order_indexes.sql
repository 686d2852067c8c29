-- A call to a dock takes the first callable waiting truck in queue order (dispatch/gate/README.md):
-- the first on-time truck whose slot has begun, by slot start, else the first late arrival or
-- walk-in, by arrival. Each of the two is the first row of one of these indexes that passes the
-- call's filters (on time, the dock's vehicle types), so a call reads a few index entries instead
-- of sorting every waiting ticket of the site (~800 on a busy day, several times per call).
CREATE INDEX queue_tickets_waiting_by_slot_idx ON queue_tickets (site_id, slot_start, arrived_at, id)
WHERE status = 'waiting';
CREATE INDEX queue_tickets_waiting_by_arrival_idx ON queue_tickets (site_id, arrived_at, id)
WHERE status = 'waiting';
