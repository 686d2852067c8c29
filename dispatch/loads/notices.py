"""The port through which the loads tell drivers' phones of a swap (dispatch/loads/swaps.py).

The phones' messages are the gate's, a floor above the loads; the composition root (dispatch/app.py)
hands the loads the gate's step (`Runtime.tell_drivers`). Kept apart from swaps.py so that the
runtime, which holds the step, imports nothing else of the loads.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from dispatch.db import Conn
from dispatch.realtime.broker import Broker

NoticeKind = Literal["load_assigned", "load_unassigned", "truck_changed", "swap_approved", "swap_refused"]


@dataclass(frozen=True)
class DriverNotice:
    """One message for a driver's phone about a load: `plate` is the load's truck as written."""

    load_id: UUID
    driver: UUID
    kind: NoticeKind
    plate: str


class DriverNotices(ABC):
    """The step that tells drivers' phones, run in the transaction of the change."""

    @abstractmethod
    async def __call__(self, conn: Conn, broker: Broker, notices: list[DriverNotice]) -> None:
        """Store each notice for its driver and publish it on the driver's channel."""
