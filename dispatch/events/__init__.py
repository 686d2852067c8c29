"""Events: the transactional outbox (and, later, the integration feed and webhooks)."""

from dispatch.events.service import record

__all__ = ["record"]
