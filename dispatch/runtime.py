"""What a running app holds: its settings and the resources opened at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

from dispatch.accounts.passwords import Passwords
from dispatch.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    passwords: Passwords
    _db: asyncpg.Pool | None = field(default=None, repr=False)

    @property
    def db(self) -> asyncpg.Pool:
        assert self._db is not None, "the database pool opens at app start-up"
        return self._db
