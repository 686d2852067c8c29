"""The tracking benchmark's phones (bench/tracking.py): `POST /driver/v1/positions` for each phone on
its own keep-alive connections, through the generator's light client (light.py). The simulator's
phones post through `Api.post_positions`, on the same client."""

from __future__ import annotations

from collections.abc import Mapping

from dispatch.sim.light import LightClient

PATH = "/driver/v1/positions"


class Phones(LightClient):
    """Each phone (by key) with its own headers, on its own connections."""

    async def post(self, phone: str, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
        """The answer's status and body. Raises OSError (or httptools.HttpParserError, TimeoutError)
        when the connection fails; that connection is dropped."""
        answer = await self.request(phone, "POST", PATH, headers, body)
        return answer.status, answer.body
