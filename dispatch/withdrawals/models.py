"""Wire types of a withdrawn award."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from dispatch.types import Input


class Withdrawal(Input, kw_only=True):
    reason: Annotated[str, Meta(min_length=1, max_length=500)]


class AwardWithdrawn(msgspec.Struct, kw_only=True):
    """What the withdrawal undid: the job now waits for its poster's re-tender (`returned`)."""

    job_id: UUID
    status: Literal["returned"]
    carrier_org_id: UUID
    by: Literal["carrier", "poster"]
    reason: str
    loads_cancelled: int
