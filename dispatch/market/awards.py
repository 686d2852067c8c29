"""What an award entails beyond the market: the goods owner's automatic pickup authorization.

An award (a grab, the poster's award, the close) commits its bids, events and the feed's removal in
one transaction, and the authorization belongs in that same transaction. Authorizations sit above
the market (they lock and read its jobs), so the market does not import them: the composition root
(dispatch/app.py) hands the market the step (`Runtime.authorize_on_award`), and the market runs it
when the goods owner's organization authorizes automatically (`PUT /market/settings`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeAlias
from uuid import UUID

import asyncpg

from dispatch.db import Conn

# (the awarding transaction's connection, the awarded job's row, the goods owner's organization)
AutoAuthorize: TypeAlias = Callable[[Conn, asyncpg.Record, UUID], Awaitable[None]]
