"""The drivers' live sockets at the gate (`/driver/v1/live`, device token, as the phone app holds it):
each driver's is open from before its check-in until its departure and reads every frame, so the
server does what a busy gate costs it: on every change in the yard every connected driver is sent
its place in the queue. Measured here: the time from the staff's call (the `call truck` answer) to
the `called` frame on the driver's socket, and the number of `tickets` frames.

Played by the parent process, which plays the drivers' gate steps too (check-in, departure): the
two times compared are on one clock. A `called` frame may come before the call's answer (the
server tells the phone at commit, then answers): that counts as 0 and is counted apart. A socket
is closed at departure only once its `called` frame is in (up to CALLED_GRACE_S after the departure:
a phone keeps its socket open, and a late frame is a late frame, measured, not a lost one); a frame
that has not come by then is missing, and the run fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

import aiohttp
import msgspec

from dispatch.sim.client import Api
from dispatch.sim.flow import Shipment


class _Frame(msgspec.Struct):
    type: str
    load_id: str | None = None


_decode = msgspec.json.Decoder(_Frame).decode
CALLED_GRACE_S = 10.0


@dataclass
class DriverSocketFigures:
    sockets: int = 0
    tickets_frames: int = 0
    called_frames: int = 0
    call_to_called: list[float] = field(default_factory=list)  # s, per load
    before_answer: int = 0  # `called` frames that came before the call's answer
    failures: list[str] = field(default_factory=list)  # sockets that ended before their departure


@dataclass
class _Driver:
    task: asyncio.Task[None]
    first_tickets: asyncio.Event
    answered_at: float | None = None
    called_at: float | None = None
    called: asyncio.Event = field(default_factory=asyncio.Event)


class DriverSockets:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.figures = DriverSocketFigures()
        self._drivers: dict[str, _Driver] = {}

    async def open(self, s: Shipment) -> None:
        """The driver's socket, open once its first `tickets` frame is in (it follows the site then)."""
        first = asyncio.Event()
        driver = _Driver(asyncio.create_task(self._read(s, first)), first)
        self._drivers[s.id] = driver
        waiter = asyncio.ensure_future(first.wait())
        await asyncio.wait({driver.task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()

    def call_answered(self, s: Shipment) -> None:
        driver = self._drivers.get(s.id)
        if driver is not None:
            driver.answered_at = time.monotonic()
            self._settle(driver)

    async def close(self, s: Shipment) -> None:
        driver = self._drivers.get(s.id)
        if driver is not None:
            if not driver.task.done():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(driver.called.wait(), CALLED_GRACE_S)
            del self._drivers[s.id]
            driver.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await driver.task

    async def close_all(self) -> None:
        for load_id in list(self._drivers):
            driver = self._drivers.pop(load_id)
            driver.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await driver.task

    def _settle(self, driver: _Driver) -> None:
        if driver.answered_at is None or driver.called_at is None:
            return
        took = driver.called_at - driver.answered_at
        self.figures.before_answer += took < 0
        self.figures.call_to_called.append(max(took, 0.0))

    async def _read(self, s: Shipment, first: asyncio.Event) -> None:
        self.figures.sockets += 1
        try:
            await self._frames(s, first)
        except Exception as exc:  # counted and reported: the run fails, the others go on
            self.figures.failures.append(f"{s.truck.plate}: {exc!r}")

    async def _frames(self, s: Shipment, first: asyncio.Event) -> None:
        async with self.api.watching_socket("/driver/v1/live", s.truck.phone) as ws:
            while True:
                message = await ws.receive()
                if message.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    raise RuntimeError(f"{s.truck.plate}: the driver's socket ended ({message.type.name})")
                frame = _decode(message.data)
                if frame.type == "tickets":
                    self.figures.tickets_frames += 1
                    first.set()
                elif frame.type == "called" and frame.load_id == s.id:
                    self.figures.called_frames += 1
                    driver = self._drivers[s.id]
                    driver.called_at = time.monotonic()
                    driver.called.set()
                    self._settle(driver)
