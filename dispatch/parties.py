"""Who takes part in a job: the parties an organization may play, and the organizations a job concerns.

A low module (beside `dispatch.types`) so that every area may ask it: market, loads, tracking and
receipts all tell a job's parties what happened to the job, and none of them needs another's
service for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal
from uuid import UUID

import asyncpg

Party = Literal["shipper", "consignee", "carrier"]


def party_orgs(job: asyncpg.Record | Mapping[str, Any], *more: UUID | None) -> list[UUID]:
    """The organizations a job concerns (poster, shipper, consignee, carrier, and `more`), once each."""
    orgs = [
        job["poster_org_id"],
        job["shipper_org_id"],
        job["consignee_org_id"],
        job["carrier_org_id"],
        *more,
    ]
    return [o for o in dict.fromkeys(orgs) if o is not None]
