"""An HTTP answer's head and body go to the transport in one write (dispatch/protocols.HeadWithBody),
and the head is never held back beyond the event loop's next turn or a close. The transport below
records what reaches it (what the socket would be given); uvicorn's own code is exercised through
every server test (tests/integration), which all answer through this path."""

from __future__ import annotations

import asyncio
from typing import Any

from dispatch.protocols import CONTINUE, HeadWithBody

HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"


class Recorded:
    def __init__(self) -> None:
        self.calls: list[Any] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.calls.append(data)

    def close(self) -> None:
        self.closing = True
        self.calls.append("close")

    def abort(self) -> None:
        self.closing = True
        self.calls.append("abort")

    def is_closing(self) -> bool:
        return self.closing

    def get_extra_info(self, name: str) -> Any:
        return ("127.0.0.1", 80) if name == "peername" else None


async def test_the_head_and_the_body_are_one_write() -> None:
    below = Recorded()
    transport = HeadWithBody(below, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(HEAD)
    assert below.calls == []
    transport.write(b"{}")
    assert below.calls == [HEAD + b"{}"]
    await asyncio.sleep(0)  # the scheduled flush finds nothing held
    assert below.calls == [HEAD + b"{}"]


async def test_a_head_without_a_body_yet_goes_out_at_the_next_turn_and_chunks_follow_it() -> None:
    below = Recorded()
    transport = HeadWithBody(below, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(HEAD)
    await asyncio.sleep(0)
    assert below.calls == [HEAD]
    transport.write(b"a")
    transport.write(b"b")
    assert below.calls == [HEAD, b"a", b"b"]


async def test_a_close_writes_the_held_head_first_and_an_abort_drops_it() -> None:
    below = Recorded()
    transport = HeadWithBody(below, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(HEAD)
    transport.close()
    assert below.calls == [HEAD, "close"]
    await asyncio.sleep(0)
    assert below.calls == [HEAD, "close"]

    below = Recorded()
    transport = HeadWithBody(below, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(HEAD)
    transport.abort()
    await asyncio.sleep(0)
    assert below.calls == ["abort"]


async def test_100_continue_goes_out_at_once_and_is_not_taken_for_the_head() -> None:
    below = Recorded()
    transport = HeadWithBody(below, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(CONTINUE)
    assert below.calls == [CONTINUE]
    transport.write(HEAD)
    transport.write(b"{}")
    assert below.calls == [CONTINUE, HEAD + b"{}"]


async def test_the_rest_of_the_transport_is_the_transport_itself() -> None:
    below = Recorded()
    transport = HeadWithBody(below, asyncio.get_running_loop())  # type: ignore[arg-type]
    assert transport.get_extra_info("peername") == ("127.0.0.1", 80)
    assert transport.is_closing() is False
