"""Events: the transactional outbox; every state change writes its event in the same transaction.
Read back by the tracking timeline and the evidence check (the heads it announced); DESIGN's
integration feed and webhooks, which would read it too, are not built."""

from dispatch.events.service import record

__all__ = ["record"]
