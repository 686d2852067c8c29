"""Password hashing with Argon2id (argon2-cffi), off the event loop."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    def __init__(self, *, time_cost: int, memory_kib: int) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
        # Verified when the email is unknown, so a login takes as long either way.
        self._dummy = self._hasher.hash("not-a-password")

    async def hash(self, password: str) -> str:
        # Argon2 is deliberately slow (tens of ms): keep it off the event loop.
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        return await asyncio.to_thread(
            self._verify, password_hash or self._dummy, password, password_hash is not None
        )

    def _verify(self, password_hash: str, password: str, real: bool) -> bool:
        try:
            self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        return real
