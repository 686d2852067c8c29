"""Outbox SQL."""

INSERT_EVENT = """
INSERT INTO events (type, org_ids, subject_type, subject_id, actor_user_id, data)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id"""

# The feed in commit-safe order: (tx, id) after the cursor, written by transactions that have all
# ended (older than this statement's snapshot xmin). $3 NULL: every organization; $4 NULL: every type.
READ_FEED = """
SELECT id, tx::text AS tx_text, occurred_at, type, org_ids, subject_type, subject_id, actor_user_id, data
FROM events
WHERE (tx, id) > ($1::text::xid8, $2::bigint)
  AND tx < pg_snapshot_xmin(pg_current_snapshot())
  AND ($3::uuid IS NULL OR $3::uuid = ANY (org_ids))
  AND ($4::text[] IS NULL OR type = ANY ($4::text[]))
ORDER BY events.tx, id
LIMIT $5"""

# The same events newest first, before the cursor (NULL: from the newest), for a person browsing back
# through them (the console). Only ended transactions, as READ_FEED: a page never shows an event
# that a later page might put before it.
READ_FEED_BACK = """
SELECT id, tx::text AS tx_text, occurred_at, type, org_ids, subject_type, subject_id, actor_user_id, data
FROM events
WHERE ($1::text IS NULL OR (tx, id) < ($1::text::xid8, $2::bigint))
  AND tx < pg_snapshot_xmin(pg_current_snapshot())
  AND $3::uuid = ANY (org_ids)
  AND ($4::text[] IS NULL OR type = ANY ($4::text[]))
ORDER BY events.tx DESC, id DESC
LIMIT $5"""

# One event by id, for redelivering it (webhooks); only once its transaction has ended (as READ_FEED).
FIND_EVENT = """
SELECT id, tx::text AS tx_text, occurred_at, type, org_ids, subject_type, subject_id, actor_user_id, data
FROM events
WHERE id = $1 AND $2::uuid = ANY (org_ids) AND tx < pg_snapshot_xmin(pg_current_snapshot())"""
