"""The driver's messages: what the phone is told (a call to a dock, the dispatcher's text, a booking
lapsed as a no-show), stored in the transaction of the change that causes it and published on the
driver's channel with that change's notification. A phone online gets it live (the `inbox` frame
of /driver/v1/live); one that was offline catches up with `GET /driver/v1/messages?after=<id>`.

Each message is in English (`text`) and, for the app's catalogue, a key with its placeholders'
values (`params`), so the phone shows it in its own language. The keys are the app's
(`app.message.*`, in the app's catalogue); the English templates here are the same messages.
"""

from __future__ import annotations

from string import Formatter
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from dispatch.accounts.principal import Principal
from dispatch.db import Conn
from dispatch.gate import queries
from dispatch.gate.models import DriverMessage, DriverMessages, MessageKind
from dispatch.gate.notifications import publish_driver
from dispatch.loads.notices import DriverNotice, DriverNotices
from dispatch.loads.service import load_number
from dispatch.realtime.broker import Broker

# Per kind: the app's catalogue key and the English template (str.format, the params by name).
TEMPLATES: dict[MessageKind, tuple[str, str]] = {
    "dock_call": ("app.message.dock_call", "Go to {dock} for load {load_number}."),
    "dispatcher": ("app.message.dispatcher", "{text}"),
    "no_show": (
        "app.message.no_show",
        "Your slot at {site} for load {load_number} has lapsed: the truck had not checked in by the "
        "end of its grace time. Book another slot, or arrive as a walk-in.",
    ),
    "load_withdrawn": (
        "app.message.load_withdrawn",
        "Load {load_number} at {site} is withdrawn: the job's award was given back or cancelled. "
        "Do not collect it; its pickup code no longer works.",
    ),
}

# The messages of a truck or driver swapped mid-job (dispatch/loads/swaps.py), a table of their own.
SWAP_TEMPLATES: dict[MessageKind, tuple[str, str]] = {
    "load_assigned": (
        "app.message.load_assigned",
        "Load {load_number} is now yours, with truck {plate}: it is on your list with its pickup code.",
    ),
    "load_unassigned": (
        "app.message.load_unassigned",
        "Load {load_number} was given to another driver: it is no longer on your list.",
    ),
    "truck_changed": (
        "app.message.truck_changed",
        "Load {load_number} now goes with truck {plate}: its pickup code changed.",
    ),
    "swap_approved": (
        "app.message.swap_approved",
        "The goods owner approved truck {plate} for load {load_number}: you may collect it.",
    ),
    "swap_refused": (
        "app.message.swap_refused",
        "The goods owner refused truck {plate} for load {load_number}: wait for your dispatcher.",
    ),
}


class GateDriverNotices(DriverNotices):
    """The loads' swap notices as driver messages, each with an `assignment` frame on the live socket
    so the phone reads its list again (the load came or went)."""

    async def __call__(self, conn: Conn, broker: Broker, notices: list[DriverNotice]) -> None:
        for n in notices:
            await tell_driver(
                conn,
                broker,
                driver=n.driver,
                load_id=n.load_id,
                kind=n.kind,
                event={"e": "assignment", "load_id": str(n.load_id)},
                plate=n.plate,
            )


async def tell_driver(
    conn: Conn,
    broker: Broker,
    *,
    driver: UUID,
    load_id: UUID,
    kind: MessageKind,
    event: dict[str, Any],
    dock: str | None = None,
    about: asyncpg.Record | None = None,
    **params: str,
) -> DriverMessage:
    """Store a message for the load's driver and publish the live socket's `event` with it (as
    `stored`). The caller holds the transaction of the change, so both happen with it or not at all.
    `params` are the template's values besides those read here (`load_number`, `site`, `dock`);
    `about`: the load's LOAD_FOR_MESSAGE columns when the caller has them already."""
    load = about or await conn.fetchrow(queries.LOAD_FOR_MESSAGE, load_id)
    assert load is not None, "a message is about an existing load"
    values = {
        "load_number": load_number(load["job_reference"], load["job_id"], load["seq"]),
        "site": load["site_name"],
        **({"dock": dock} if dock is not None else {}),
        **params,
    }
    key, template = (TEMPLATES | SWAP_TEMPLATES)[kind]
    used = {name: values[name] for name in _placeholders(template)}
    row = await conn.fetchrow(
        queries.INSERT_MESSAGE,
        load["carrier_org_id"],
        driver,
        load_id,
        kind,
        key,
        used,
        template.format(**used),
        dock,
    )
    message = _message(row)
    await publish_driver(broker, conn, driver, event | {"stored": msgspec.to_builtins(message)})
    return message


def _placeholders(template: str) -> list[str]:
    return [name for _, name, _, _ in Formatter().parse(template) if name]


def _message(row: asyncpg.Record | None) -> DriverMessage:
    assert row is not None
    return msgspec.convert(dict(row), DriverMessage)


async def driver_messages(db: asyncpg.Pool, p: Principal, after: int, limit: int) -> DriverMessages:
    """The device's driver's messages after `after`, oldest first."""
    rows = await db.fetch(queries.DRIVER_MESSAGES, p.user_id, p.org_id, after, limit)
    items = [_message(r) for r in rows]
    return DriverMessages(items=items, next_after=items[-1].id if items else after)
