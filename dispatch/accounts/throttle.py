"""Login throttling, per account and per client address, shared by every worker (in PostgreSQL).

The numbers:
- An account (the email as typed, lower-cased, whether or not it exists) gets 5 password checks in
  a streak. The 5th starts a wait of 1 minute; each check after a wait doubles the next one (2, 4,
  8 minutes) up to 15 minutes. A streak is forgotten 15 minutes after its last check, so the
  longest an attacker can keep the real user waiting after giving up is 15 minutes, and a
  successful login ends the streak at once.
- An address gets 30 wrong passwords in a streak (over any accounts: a password sprayer), then the
  same waits. Successful logins do not count, so an office behind one NAT is not locked out by its
  own staff logging in, and logging into one's own account does not buy more guesses.
- While either waits, the answer is 429 `login_throttled` with `Retry-After`, and the password is
  not checked: a throttled guesser learns nothing and spends no Argon2 time.

Wrong pairing codes (POST /driver/v1/pairing) are throttled the same way per address, as a streak
of their own: 10 wrong codes, then the same waits (429 `pairing_throttled`), and no code is checked
while the address waits. A code has 32^8 (about 10^12) values and lives minutes, so at most one
guess every few minutes per address finds one with a chance of about 10^-11 per live code.

The account's attempt is counted before its password is checked, in one conditional upsert
(queries.CLAIM_LOGIN_ATTEMPT), so 50 racing attempts through any number of workers get exactly 5
checks. The address counts failures after the check: a concurrent burst can pass its limit by
what was in flight, but never past any one account's limit.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import asyncpg

from dispatch.accounts import queries
from dispatch.errors import Problem

ACCOUNT_ATTEMPTS = 5
ADDRESS_FAILURES = 30
PAIRING_FAILURES = 10
STREAK_FORGOTTEN_S = 15 * 60
FIRST_WAIT_S = 60
LONGEST_WAIT_S = 15 * 60


class LoginThrottled(Problem):
    """429 with `Retry-After` (the handler in accounts/api.py sets the header)."""

    status, code = 429, "login_throttled"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            f"Too many login attempts for this account or from this address; try again in "
            f"{retry_after_s} seconds.",
            retry_after=retry_after_s,
        )
        self.retry_after_s = retry_after_s


class PairingThrottled(LoginThrottled):
    """429 with `Retry-After`: too many wrong pairing codes from this address."""

    code = "pairing_throttled"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(retry_after_s)
        self.detail = f"Too many wrong pairing codes from this address; try again in {retry_after_s} seconds."


def account_subject(email: str) -> str:
    return email.strip().lower()


async def claim_attempt(db: asyncpg.Pool, account: str, address: str) -> None:
    """Count this login attempt, or raise LoginThrottled if the account or address must wait."""
    row = await db.fetchrow(
        queries.CLAIM_LOGIN_ATTEMPT,
        account,
        address,
        ACCOUNT_ATTEMPTS,
        float(STREAK_FORGOTTEN_S),
        float(FIRST_WAIT_S),
        float(LONGEST_WAIT_S),
    )
    assert row is not None
    if row["claimed"]:
        return
    until: datetime | None = row["blocked_until"]
    if until is None:  # a racing attempt started the wait after this statement's snapshot
        until = await db.fetchval(queries.LOGIN_WAIT, account, address)
    raise LoginThrottled(_seconds_until(until))


async def address_failed(db: asyncpg.Pool, address: str) -> None:
    await db.execute(
        queries.ADDRESS_LOGIN_FAILED,
        address,
        ADDRESS_FAILURES,
        float(STREAK_FORGOTTEN_S),
        float(FIRST_WAIT_S),
        float(LONGEST_WAIT_S),
    )


async def pairing_allowed(db: asyncpg.Pool, address: str) -> None:
    """Raise PairingThrottled while the address waits after too many wrong pairing codes."""
    until: datetime | None = await db.fetchval(queries.PAIRING_WAIT, address)
    if until is not None:
        raise PairingThrottled(_seconds_until(until))


async def pairing_failed(db: asyncpg.Pool, address: str) -> None:
    await db.execute(
        queries.PAIRING_FAILED,
        address,
        PAIRING_FAILURES,
        float(STREAK_FORGOTTEN_S),
        float(FIRST_WAIT_S),
        float(LONGEST_WAIT_S),
    )


async def purge(db: asyncpg.Pool) -> int:
    """Forget idle streaks, long-expired sessions and pairing codes; 0 so the loop runner does not
    repeat it."""
    await db.execute(queries.PURGE_LOGIN_ATTEMPTS)
    await db.execute(queries.PURGE_SESSIONS)
    await db.execute(queries.PURGE_PAIRINGS)
    return 0


def _seconds_until(until: datetime | None) -> int:
    if until is None:
        return FIRST_WAIT_S
    return max(1, math.ceil((until - datetime.now(UTC)).total_seconds()))
