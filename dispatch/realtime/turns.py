"""Turns: a burst of many sockets' work spread over the event loop's iterations.

Why: a change at a busy gate's site wakes every driver's socket in the yard at once (they all
follow the site, read its queue once together, and their one-a-second holds end together). Each
socket's share (cut its tickets, encode, compare, send) is small, but a few hundred of them run in
one iteration of a worker's event loop, and everything else that became ready meanwhile waits
behind the whole burst: a GPS batch's frames to its watchers, the gate's own requests. A socket
takes a turn (`take`) before that work; at most `per_round` turns are handed out per iteration,
each batch scheduled behind what became ready meanwhile (`call_soon`), so other work waits for at
most one batch, not the burst. The total work is the same; only its order changes.
"""

from __future__ import annotations

import asyncio
from collections import deque


class Turns:
    """One per event loop (the worker's Runtime)."""

    def __init__(self, per_round: int = 16) -> None:
        self.per_round = per_round
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._handing_out = False

    async def take(self) -> None:
        """Return on this caller's turn (in the order asked)."""
        loop = asyncio.get_running_loop()
        turn: asyncio.Future[None] = loop.create_future()
        self._waiting.append(turn)
        if not self._handing_out:
            self._handing_out = True
            loop.call_soon(self._hand_out)
        await turn

    def _hand_out(self) -> None:
        handed = 0
        while self._waiting and handed < self.per_round:
            turn = self._waiting.popleft()
            if not turn.done():  # a caller cancelled while waiting (its socket closed) takes none
                turn.set_result(None)
                handed += 1
        if self._waiting:
            asyncio.get_running_loop().call_soon(self._hand_out)
        else:
            self._handing_out = False
