"""The simulator's client of the public HTTP and websocket API, with per-operation timing.

Every simulated party talks to the service only through this: the same requests a carrier's
dispatcher, a driver's phone, gate staff or an ERP would send (no database access, no service code).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp
import msgspec
from websockets.asyncio.client import ClientConnection, connect

from dispatch.sim.light import TIMEOUT_S, Answer, LightClient

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.decode


class ApiError(Exception):
    """An answer other than the one expected, with the problem details the service sent."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        self.code = body.get("code") if isinstance(body, dict) else None
        detail = body.get("detail") if isinstance(body, dict) else str(body)[:300]
        super().__init__(f"{method} {path}: {status} {self.code or ''} {detail}".strip())


@dataclass(frozen=True)
class Account:
    """An organization's admin as the operator created it: what a simulated party logs in with."""

    org_id: str
    name: str
    email: str
    password: str


@dataclass(frozen=True)
class Party:
    """Whoever is calling: a user's session, an API token or a driver's device token."""

    name: str
    token: str
    org_id: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Timings:
    """Seconds per operation name (e.g. "grab", "positions"), for the figures printed at the end."""

    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    ended_at: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # time.time()
    failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, op: str, seconds: float) -> None:
        self.samples[op].append(seconds)
        self.ended_at[op].append(time.time())

    def merge(self, other: Timings) -> None:
        """Add another process's timings to these."""
        for op, samples in other.samples.items():
            self.samples[op].extend(samples)
            self.ended_at[op].extend(other.ended_at[op])
        for op, n in other.failures.items():
            self.failures[op] += n


class Api:
    """The service's HTTP API, each party on its own keep-alive connections (light.py: a party's
    console or phone holds one; light on the generator's CPU), and websocket connections.

    Multipart uploads (the evidence photo: `data=`) go through an aiohttp session instead: the light
    client writes JSON bodies only. With `light=False` every request does (bench/simclients.py
    compares the two clients)."""

    def __init__(
        self, base_url: str, timings: Timings | None = None, *, connections: int = 200, light: bool = True
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.ws_url = "ws" + self.base_url.removeprefix("http")
        self.timings = timings or Timings()
        self._connections = connections
        self._light = LightClient(self.base_url) if light else None
        self._session: aiohttp.ClientSession | None = None
        self._sockets: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Api:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._light is not None:
            self._light.close()
        for session in (self._session, self._sockets):
            if session is not None:
                await session.close()

    async def call(
        self,
        method: str,
        path: str,
        who: Party | None = None,
        body: Any = None,
        *,
        op: str | None = None,
        expect: int | tuple[int, ...] = (200, 201),
        headers: Mapping[str, str] | None = None,
        data: Any = None,
    ) -> Any:
        """The decoded JSON answer (text when the answer is not JSON); ApiError when the status is
        not one of `expect`. The time until the answer is read whole is added as `op` (by default
        the method and the path)."""
        sent = dict(headers or {})
        if who is not None:
            sent |= who.headers
        payload = b""
        if body is not None:
            payload = _encode(body)
            sent["Content-Type"] = "application/json"
        name = op or method + " " + path.split("?")[0]
        t0 = time.perf_counter()
        if self._light is not None and data is None:
            key = who.token if who is not None else ""
            got = await self._light.request(key, method, path, sent, payload)
        else:
            got = await self._aiohttp(method, path, sent, payload if data is None else data)
        self.timings.add(name, time.perf_counter() - t0)
        answer = (
            _decode(got.body)
            if got.body and got.content_type.endswith("json")
            else got.body.decode(errors="replace")
        )
        wanted = (expect,) if isinstance(expect, int) else expect
        if got.status not in wanted:
            self.timings.failures[op or path] += 1
            raise ApiError(method, path, got.status, answer)
        return answer

    async def _aiohttp(self, method: str, path: str, headers: dict[str, str], data: Any) -> Answer:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                self.base_url,
                connector=aiohttp.TCPConnector(limit=self._connections),
                timeout=aiohttp.ClientTimeout(total=TIMEOUT_S),
            )
        async with self._session.request(method, path, data=data or None, headers=headers) as r:
            return Answer(r.status, r.content_type, await r.read())

    async def post_positions(self, phone: Party, body: Any, *, op: str = "post positions") -> Any:
        """`POST /driver/v1/positions` from a phone: a simulation's busiest request."""
        return await self.call("POST", "/driver/v1/positions", phone, body, op=op)

    async def get(self, path: str, who: Party | None = None, **kw: Any) -> Any:
        return await self.call("GET", path, who, **kw)

    async def post(self, path: str, who: Party | None = None, body: Any = None, **kw: Any) -> Any:
        return await self.call("POST", path, who, body, **kw)

    async def put(self, path: str, who: Party | None = None, body: Any = None, **kw: Any) -> Any:
        return await self.call("PUT", path, who, body, **kw)

    def _socket_url(self, path: str, who: Party) -> str:
        """Authenticated the way browsers do (`?access_token=`)."""
        sep = "&" if "?" in path else "?"
        return f"{self.ws_url}{path}{sep}access_token={quote(who.token)}"

    @asynccontextmanager
    async def websocket(self, path: str, who: Party) -> AsyncIterator[ClientConnection]:
        """A websocket to `path` on the `websockets` client."""
        url = self._socket_url(path, who)
        async with connect(url, open_timeout=60, max_size=1 << 24, compression=None) as ws:
            yield ws

    @asynccontextmanager
    async def watching_socket(self, path: str, who: Party) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
        """A websocket to `path` on aiohttp's client, for the thousands of tracking watchers a
        simulation holds open: its frame reader is compiled, so each frame costs the generator less
        CPU than on `websockets` (bench/simclients.py measures both). Same URL, no compression asked.
        Its own session: the sockets must not count against the HTTP pool's limit."""
        if self._sockets is None:
            self._sockets = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0),
                # The handshake's limits; once open, aiohttp reads a websocket without a timeout.
                timeout=aiohttp.ClientTimeout(total=None, connect=60, sock_read=60),
            )
        async with self._sockets.ws_connect(self._socket_url(path, who), max_msg_size=1 << 24) as ws:
            yield ws
