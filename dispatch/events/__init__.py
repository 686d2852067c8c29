"""Events: the transactional outbox; every state change writes its event in the same transaction.
Read back by the tracking timeline and the evidence check (the heads it announced), and in
commit-safe order by `feed.read` for the events API and webhooks."""

from dispatch.events.feed import START, Cursor, FeedEvent, find, read, read_back
from dispatch.events.service import PendingEvent, pending, record

__all__ = ["START", "Cursor", "FeedEvent", "PendingEvent", "find", "pending", "read", "read_back", "record"]
