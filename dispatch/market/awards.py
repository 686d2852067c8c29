"""What an award entails beyond the market: the goods owner's automatic pickup authorization; and
the order of a tender's carriers by their scorecards, which the market cannot compute itself.

An award (a grab, the poster's award, the close) commits its bids, events and the feed's removal in
one transaction, and the authorization belongs in that same transaction. Authorizations sit above
the market (they lock and read its jobs), so the market does not import them: the composition root
(dispatch/app.py) hands the market the step (`Runtime.authorize_on_award`), and the market runs it
when the goods owner's organization authorizes automatically (`PUT /market/settings`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from dispatch.db import Conn
from dispatch.events import PendingEvent


class CarrierRanker(ABC):
    """A tender's carriers in the order of their scorecards ("by score"). Scorecards sit above the
    market (they count what the market, the gate and the receipts recorded), so, like the automatic
    authorization, the composition root hands the market this step (`Runtime.rank_carriers`)."""

    @abstractmethod
    async def __call__(self, conn: Conn, job: asyncpg.Record, carriers: list[UUID]) -> list[UUID]:
        """`carriers`, best first for `job`'s lane."""


class AutoAuthorizer(ABC):
    """The step the market runs on an award when the goods owner authorizes automatically."""

    @abstractmethod
    async def __call__(self, conn: Conn, job: asyncpg.Record, owner: UUID) -> None:
        """Authorize the awarded job's carrier for `owner`, in the awarding transaction (`conn`)."""

    @abstractmethod
    def grant(self, job: Mapping[str, Any], owner: UUID) -> Grant:
        """The authorization `__call__` would write for the awarded `job` (its row's columns), drawn
        before the award, for an award written in one statement (the grab: README "Grab")."""


@dataclass(frozen=True)
class Grant:
    """An automatic authorization's row and its event, as the authorizations area would write them:
    its id and the hash of its code (the area's secret stays there), who issues it, its validity."""

    id: UUID
    code_hash: bytes
    issuer_org_id: UUID
    valid_from: datetime
    valid_until: datetime
    event: PendingEvent
