"""Forward-only migrations: numbered .sql files applied in order, each in its own transaction.

Rules:
- A file is named `NNNN_words.sql`; NNNN orders them and is the version recorded once applied.
- Every runner takes one session advisory lock first, so two processes starting at once apply
  each file exactly once: the second waits, then finds the work done.
- A failing file rolls back alone and raises `MigrationError` naming the file and the database's
  error; callers stop start-up on it, never run on a half-migrated schema.
- A file changed after it was applied is an error too (its checksum is recorded).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

DEFAULT_DIR = Path(__file__).parent / "migrations"
# Any constant shared by every runner of this schema; the value spells "dispatch" in ASCII hex.
ADVISORY_LOCK_KEY = 0x6469737061746368
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""
APPLIED = "SELECT version, name, checksum FROM schema_migrations ORDER BY version"
RECORD = "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)"


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(directory: Path = DEFAULT_DIR) -> list[Migration]:
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: migration files are named NNNN_lowercase_words.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"{path.name}: version {version} is also used by {found[version].name}")
        found[version] = Migration(version, path.name, path.read_text())
    return [found[v] for v in sorted(found)]


async def migrate(conn: asyncpg.Connection, directory: Path = DEFAULT_DIR) -> list[str]:
    """Apply every pending migration; return the names applied by this call."""
    migrations = discover(directory)
    await conn.execute("SELECT pg_advisory_lock($1)", ADVISORY_LOCK_KEY)
    try:
        await conn.execute(CREATE_LEDGER)
        applied = {r["version"]: r for r in await conn.fetch(APPLIED)}
        done: list[str] = []
        for m in migrations:
            if m.version in applied:
                if applied[m.version]["checksum"] != m.checksum:
                    raise MigrationError(
                        f"{m.name}: changed after it was applied; add a new migration instead"
                    )
                continue
            try:
                async with conn.transaction():
                    await conn.execute(m.sql)
                    await conn.execute(RECORD, m.version, m.name, m.checksum)
            except asyncpg.PostgresError as exc:
                where = f" (line {exc.position})" if getattr(exc, "position", None) else ""
                raise MigrationError(f"{m.name} failed{where}: {type(exc).__name__}: {exc}") from exc
            done.append(m.name)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", ADVISORY_LOCK_KEY)
