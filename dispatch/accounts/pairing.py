"""Pairing a driver's phone: it gets a device token of its own without anyone copying a secret.

Two ways, both answered with the same `Paired` (the device token, its tracker id, driver and
organization):
- a dispatcher makes a one-time code for a driver (`create_pairing`: shown as ABCD-2345 and as a QR
  code of `<base>/app#pair=<code>`), and the phone redeems it (`redeem`): single-use, settled by one
  conditional UPDATE; expiring (DISPATCH_PAIRING_MINUTES); wrong codes throttled per address;
- the driver signs in on the phone with their own account (`sign_in`): the login's rules,
  throttling and errors, and the account must hold `drive`.

The device token is an ordinary one (named after the device, listed and revoked with the other
device tokens), and so is its tracker id (`tracker_principal`: what Traccar Client authenticates with).
"""

from __future__ import annotations

import io
from uuid import UUID

import asyncpg
import segno

from dispatch import events
from dispatch.accounts import credentials, queries, service, throttle
from dispatch.accounts.auth import require_party
from dispatch.accounts.models import (
    Paired,
    PairedDriver,
    PairedOrganization,
    Pairing,
    PairingCreated,
    PairWithCode,
    PairWithPassword,
)
from dispatch.accounts.passwords import Passwords
from dispatch.accounts.permissions import Permission
from dispatch.accounts.principal import Principal
from dispatch.db import Conn
from dispatch.errors import Conflict, Forbidden, NotFound, Unauthorized

# Drawing a code whose hash is taken (by a code within the purge window) is a 1 in 10^12 chance; a
# few draws make a failure impossible in practice.
_DRAWS = 5


# -- the dispatcher's side -------------------------------------------------------------------


async def create_pairing(
    db: asyncpg.Pool, p: Principal, user_id: UUID, *, secret: str, minutes: int, base_url: str
) -> PairingCreated:
    """A one-time code that pairs a phone with the driver `user_id` of the caller's carrier."""
    require_party(p, "carrier", "pair drivers' phones")
    async with db.acquire() as conn, conn.transaction():
        await _driver(conn, p.org_id, user_id)
        for _ in range(_DRAWS):
            code = credentials.new_pairing_code()
            code_hash = credentials.pairing_code_hash(secret, code)
            row = await conn.fetchrow(
                queries.INSERT_PAIRING, p.org_id, user_id, code_hash, p.user_id, minutes
            )
            if row is not None:
                break
        else:
            raise RuntimeError("no free pairing code after several draws")
        await events.record(
            conn,
            "pairing.created",
            org_ids=[p.org_id],
            subject_type="pairing",
            subject_id=row["id"],
            actor_user_id=p.user_id,
            data={"user_id": str(user_id), "expires_at": row["expires_at"].isoformat()},
        )
    pair_url = f"{base_url.rstrip('/')}/app#pair={code}"
    return PairingCreated(
        id=row["id"], code=code, expires_at=row["expires_at"], pair_url=pair_url, qr_svg=qr_svg(pair_url)
    )


async def list_pairings(db: asyncpg.Pool, p: Principal, user_id: UUID) -> list[Pairing]:
    """The driver's codes that can still be redeemed."""
    async with db.acquire() as conn:
        await _driver(conn, p.org_id, user_id)
        rows = await conn.fetch(queries.OPEN_PAIRINGS, p.org_id, user_id)
    return [Pairing(**r) for r in rows]  # by column name


async def revoke_pairing(db: asyncpg.Pool, p: Principal, user_id: UUID, pairing_id: UUID) -> None:
    """Withdraw a code that was not redeemed yet (a redeemed one: revoke its device token instead)."""
    async with db.acquire() as conn, conn.transaction():
        await _driver(conn, p.org_id, user_id)
        if await conn.fetchval(queries.REVOKE_PAIRING, p.org_id, user_id, pairing_id) is None:
            row = await conn.fetchrow(queries.PAIRING_DEVICE, p.org_id, user_id, pairing_id)
            if row is not None and row["used_at"] is not None:
                device = row["device_token_id"]
                raise Conflict(
                    "This pairing code was already used; revoke the device token it paired instead.",
                    code="pairing_used",
                    device_token_id=None if device is None else str(device),
                )
            raise NotFound("No open pairing code of this driver has that id.", code="pairing_not_found")
        await events.record(
            conn,
            "pairing.revoked",
            org_ids=[p.org_id],
            subject_type="pairing",
            subject_id=pairing_id,
            actor_user_id=p.user_id,
            data={"user_id": str(user_id)},
        )


async def _driver(conn: Conn, org_id: UUID, user_id: UUID) -> None:
    """404 when `user_id` is no (enabled) member of the organization, 409 when not a driver."""
    row = await conn.fetchrow(queries.SESSION_PRINCIPAL, org_id, user_id)
    if row is None:
        raise NotFound("No member with the drive permission has that id.", code="driver_not_found")
    if Permission.DRIVE.value not in row["permissions"]:
        raise Conflict(
            "Phones are paired only for members with the 'drive' permission (for example the built-in "
            "driver role).",
            code="not_a_driver",
        )


def qr_svg(text: str) -> str:
    """`text` as a QR code, an SVG document (segno: error correction M or better, 4 px a module,
    the standard quiet zone)."""
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="svg", xmldecl=False, nl=False, scale=4, title=text)
    return out.getvalue().decode()


# -- the phone's side ------------------------------------------------------------------------


async def redeem(db: asyncpg.Pool, body: PairWithCode, *, secret: str, address: str) -> Paired:
    """Exchange a pairing code for the phone's own device token. Wrong, used and expired codes are
    401s and count against the address (429 `pairing_throttled` once it must wait)."""
    await throttle.pairing_allowed(db, address)
    code_hash = credentials.pairing_code_hash(secret, body.code)
    refused: Unauthorized | None = None
    if code_hash is None:
        refused = Unauthorized(
            "That is not a pairing code: it has 8 letters and digits, like ABCD-2345.",
            code="pairing_code_invalid",
        )
    else:
        async with db.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(queries.REDEEM_PAIRING, code_hash)
            if row is None:
                refused = await _why_not(conn, code_hash)
            else:
                org_id, user_id = row["org_id"], row["user_id"]
                await _still_a_driver(conn, org_id, user_id)
                device = await service.add_device_token(
                    conn,
                    org_id,
                    user_id,
                    name=body.device_name,
                    created_by=row["created_by"],
                    data={"pairing_id": str(row["id"])},
                )
                await conn.execute(queries.SET_PAIRING_DEVICE, row["id"], device.id)
                return await _paired(conn, device, org_id, user_id)
    assert refused is not None
    await throttle.pairing_failed(db, address)
    raise refused


async def _why_not(conn: Conn, code_hash: bytes) -> Unauthorized:
    row = await conn.fetchrow(queries.PAIRING_STATE, code_hash)
    if row is None or row["revoked_at"] is not None:
        return Unauthorized(
            "No such pairing code: check it, or ask your dispatcher for a new one.",
            code="pairing_code_invalid",
        )
    if row["used_at"] is not None:
        return Unauthorized(
            "This pairing code was already used; each code pairs one phone. Ask for a new one.",
            code="pairing_code_used",
        )
    return Unauthorized(
        f"This pairing code expired at {row['expires_at']:%H:%M} UTC; ask your dispatcher for a new one.",
        code="pairing_code_expired",
    )


async def sign_in(db: asyncpg.Pool, passwords: Passwords, body: PairWithPassword, *, address: str) -> Paired:
    """A driver pairs their phone with their own account: the login's rules, throttle and errors
    (dispatch.accounts.service.verify_login), then 403 `not_a_driver` without `drive`."""
    user_id, org_id = await service.verify_login(
        db,
        passwords,
        email=body.email,
        password=body.password,
        organization_id=body.organization_id,
        address=address,
    )
    # The password was right: the account's streak is over, whether or not a token is issued.
    await db.execute(queries.END_ACCOUNT_STREAK, throttle.account_subject(body.email))
    async with db.acquire() as conn, conn.transaction():
        await _still_a_driver(conn, org_id, user_id)
        device = await service.add_device_token(
            conn, org_id, user_id, name=body.device_name, created_by=user_id, data={"signed_in": True}
        )
        return await _paired(conn, device, org_id, user_id)


async def _still_a_driver(conn: Conn, org_id: UUID, user_id: UUID) -> None:
    row = await conn.fetchrow(queries.SESSION_PRINCIPAL, org_id, user_id)
    if row is None:  # the membership was removed (or the user disabled) a moment ago
        raise Unauthorized("This account is no longer a member of the organization.", code="membership_gone")
    if Permission.DRIVE.value not in row["permissions"]:
        raise Forbidden(
            "Only drivers pair a phone: this account does not hold the 'drive' permission in the "
            "organization.",
            code="not_a_driver",
        )


async def _paired(conn: Conn, device: service.NewDevice, org_id: UUID, user_id: UUID) -> Paired:
    names = await conn.fetchrow(queries.DRIVER_AND_ORGANIZATION, org_id, user_id)
    assert names is not None
    return Paired(
        device_token=device.token,
        device_id=device.id,
        tracker_id=device.tracker_id,
        driver=PairedDriver(user_id=user_id, name=names["driver_name"]),
        organization=PairedOrganization(id=org_id, name=names["organization_name"]),
    )


# -- Traccar Client --------------------------------------------------------------------------


async def tracker_principal(db: asyncpg.Pool, tracker_id: str) -> Principal:
    """The device principal whose tracker id Traccar Client sent, or a 401 (unknown, or its device
    token revoked)."""
    tracker_hash = credentials.tracker_id_hash(tracker_id)
    row = None if tracker_hash is None else await db.fetchrow(queries.TRACKER_PRINCIPAL, tracker_hash)
    if row is None:
        raise Unauthorized(
            "Unknown device identifier: use the tracker id the phone's pairing gave.",
            code="tracker_id_invalid",
        )
    if row["revoked_at"] is not None:
        raise Unauthorized(
            "This device identifier's device token was revoked; pair the phone again.",
            code="tracker_id_revoked",
        )
    return Principal(
        kind="device",
        org_id=row["org_id"],
        user_id=row["user_id"],
        credential_id=row["id"],
        permissions=frozenset(row["permissions"]),
        parties=frozenset(row["parties"]),
    )
