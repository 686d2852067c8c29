"""The GPS ingest route's device principals, kept a few seconds by each process.

The route takes its device principal from here, which saves one database round trip per batch. This
is safe only because ingest re-checks the token (not revoked, user not disabled) in each statement
that reads or stores for the batch (dispatch.tracking.queries; `auth.recheck_device` then gives the
401 and forgets the token): a revoked token stores nothing from the moment the revocation commits,
on every worker, and gets the same 401 as before. What a kept principal may hold stale, for at most
DEVICE_CACHE_TTL_S, is only what ingest never reads: its permissions and its organization's parties.
Every other route authenticates every request. One per process, held by the app's `Runtime`.
"""

from __future__ import annotations

import time
from uuid import UUID

from dispatch.accounts.principal import Principal

DEVICE_CACHE_TTL_S = 10.0
DEVICE_CACHE_MAX = 10_000


class DevicePrincipals:
    """Principals by the token's hash (as stored in device_tokens): the tokens themselves are not kept."""

    def __init__(self, ttl_s: float = DEVICE_CACHE_TTL_S, limit: int = DEVICE_CACHE_MAX) -> None:
        self._ttl_s = ttl_s
        self._limit = limit
        self._kept: dict[bytes, tuple[float, Principal]] = {}

    def get(self, token_hash: bytes) -> Principal | None:
        hit = self._kept.get(token_hash)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        return None

    def keep(self, token_hash: bytes, principal: Principal) -> None:
        if len(self._kept) >= self._limit:
            self._kept.clear()
        self._kept[token_hash] = (time.monotonic() + self._ttl_s, principal)

    def forget(self, credential_id: UUID) -> None:
        """Drop a device token's kept principal (its re-check failed)."""
        for token_hash, (_, p) in list(self._kept.items()):
            if p.credential_id == credential_id:
                del self._kept[token_hash]
