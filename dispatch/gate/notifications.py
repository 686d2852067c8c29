"""What the gate publishes, for the board and the drivers' phones.

- `site_<id>`: something changed in a site's yard (a check-in, a call, loading, a departure,
  a no-show). Payload `{}`: subscribers re-read the yard, which is small, instead of applying
  deltas, so a missed or repeated notification cannot leave a screen wrong.
- `driver_<id>`: something for one driver: `{"e": "assignment"|"called"|"message", ...}`.

Published with `pg_notify` inside the transaction of the change (see dispatch.realtime.broker).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec

from dispatch.db import Conn
from dispatch.realtime.broker import Broker


def site_channel(site_id: UUID) -> str:
    return f"site_{site_id.hex}"


def driver_channel(user_id: UUID) -> str:
    return f"driver_{user_id.hex}"


async def publish_site(broker: Broker, conn: Conn, site_id: UUID) -> None:
    await broker.publish(conn, site_channel(site_id), "{}")


def in_sql(broker: Broker, site_id: UUID) -> str | None:
    """The site's channel for a statement that publishes the change itself (`pg_notify` in the
    statement of the change saves a round trip), or None when the broker does not publish in SQL:
    then the caller publishes with `publish_site`."""
    return site_channel(site_id) if broker.publishes_in_sql else None


def driver_notification(user_id: UUID, message: dict[str, Any]) -> tuple[str, str]:
    """The driver's channel and the message's payload (for a statement that publishes it itself)."""
    return driver_channel(user_id), msgspec.json.encode(message).decode()


async def publish_driver(broker: Broker, conn: Conn, user_id: UUID | None, message: dict[str, Any]) -> None:
    if user_id is not None:
        await broker.publish(conn, *driver_notification(user_id, message))
