"""Outbox SQL."""

INSERT_EVENT = """
INSERT INTO events (type, org_ids, subject_type, subject_id, actor_user_id, data)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id"""
