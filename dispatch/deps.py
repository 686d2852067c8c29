"""Dependency markers for handlers: the app provides `runtime`, `p` (the caller) and `receipts` by name."""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID

from litestar.di import NamedDependency
from litestar.params import SkipValidation

from dispatch.accounts.principal import Principal
from dispatch.db import Queryable
from dispatch.runtime import Runtime


class ReceiptSummaries(Protocol):
    """The confirmed receipts of some loads, as a watcher is shown them (`receipts.service.summaries`).

    Receipts sits above tracking (confirming a receipt ends the tracking), so the tracking sockets and
    routes are handed this by the composition root instead of importing the receipts area."""

    async def __call__(self, db: Queryable, load_ids: list[UUID]) -> dict[UUID, dict[str, Any]]: ...


RuntimeDep = NamedDependency[Runtime]
Caller = NamedDependency[Principal]
# A function, which the handlers' signature model cannot validate (and need not: the app made it).
ReceiptsDep = NamedDependency[SkipValidation[ReceiptSummaries]]
