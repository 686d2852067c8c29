"""A webhook receiver for the tests: a small HTTP/1.1 server on 127.0.0.1 (asyncio streams, so it
counts connections as well as requests) that verifies every delivery with the Standard Webhooks
library's own verifier and records what it acknowledged."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

# What the receiver answers a request: (status, extra headers), or HANG (never answers).
HANG = "hang"
Behaviour = Callable[["Delivery"], "tuple[int, dict[str, str]] | str"]


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


def acknowledge(_: Delivery) -> tuple[int, dict[str, str]]:
    return 204, {}


@dataclass
class Receiver:
    secrets: list[str] = field(default_factory=list)
    behaviour: Behaviour = acknowledge
    connections: int = 0
    requests: list[Delivery] = field(default_factory=list)
    # The deliveries answered 2xx, verified: what the receiver's system got.
    acknowledged: list[Delivery] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)
    hanging: asyncio.Event = field(default_factory=asyncio.Event)
    # The client port of the connection whose request is hanging.
    hanging_peer: int = 0
    port: int = 0
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def start(self) -> Receiver:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Down: the port refuses connections, and open ones are cut."""
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            await self._server.wait_closed()
            self._server = None

    def ids(self) -> list[str]:
        return [d.headers["webhook-id"] for d in self.acknowledged]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {
                    k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:] if h)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                delivery = Delivery(headers, body)
                self.requests.append(delivery)
                answer = self.behaviour(delivery)
                if answer == HANG:
                    self.hanging_peer = writer.get_extra_info("peername")[1]
                    self.hanging.set()
                    while await reader.read(1024):  # until the sender gives up or dies
                        pass
                    return
                assert not isinstance(answer, str)
                status, extra = answer
                if 200 <= status < 300:
                    if self._verified(delivery):
                        self.acknowledged.append(delivery)
                    else:
                        status = 400
                fields = "".join(f"{k}: {v}\r\n" for k, v in extra.items())
                content = b"" if status in (204, 304) else b"ok"
                fields += "" if status in (204, 304) else f"content-length: {len(content)}\r\n"
                writer.write(f"HTTP/1.1 {status} X\r\n{fields}\r\n".encode() + content)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    def _verified(self, delivery: Delivery) -> bool:
        """Verified by any one of the secrets (during a rotation the header carries two signatures)."""
        for secret in self.secrets:
            try:
                Webhook(secret).verify(delivery.body, delivery.headers)
                return True
            except WebhookVerificationError:
                continue
        self.unverified.append(delivery.headers.get("webhook-id", "?"))
        return False


async def wait_for(predicate: Callable[[], Any], what: str, within_s: float = 120) -> None:
    """Wait until `predicate()` is true (checked every 0.1 s); fail saying `what` after `within_s`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not await _value(predicate()):
        assert loop.time() < deadline, f"waited {within_s} s for {what}"
        await asyncio.sleep(0.1)


async def _value(value: Any) -> Any:
    return await value if asyncio.iscoroutine(value) else value


def holder_of(pids: list[int], client_port: int, server_port: int) -> list[int]:
    """Which of `pids` holds the TCP connection from local `client_port` to local `server_port`."""
    inodes: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                f = line.split()
                ports = (int(f[1].rsplit(":", 1)[1], 16), int(f[2].rsplit(":", 1)[1], 16))
                if ports == (client_port, server_port):
                    inodes.add(int(f[9]))
    holders = []
    for pid in pids:
        with contextlib.suppress(OSError):
            links = {os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()}
            if any(f"socket:[{inode}]" in links for inode in inodes):
                holders.append(pid)
    return holders
