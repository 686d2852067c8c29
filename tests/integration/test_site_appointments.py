"""The day's appointments at a site (`GET /sites/{site}/appointments`): at the mill, a booked truck,
a walk-in in the queue and one that has left; at the buyer's yard, that truck on the road with the
ETA tracking computed. Another organization's site is not found; a driver gets nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from tests.gate_support import next_slot
from tests.market_support import BERLIN
from tests.support import add_member, problem
from tests.tracking_support import depart, loads_in_transit, route

BERLIN_TIME = ZoneInfo("Europe/Berlin")  # both sites' time zone


def local_day(at: datetime) -> str:
    return at.astimezone(BERLIN_TIME).date().isoformat()


async def rows_by_load(client: Any, site_id: str, headers: dict[str, str], *days: str) -> dict[str, Any]:
    """The site's appointments on those days (a slot may lie on the next day near midnight)."""
    rows: dict[str, Any] = {}
    for day in sorted(set(days)):
        r = await client.get(f"/sites/{site_id}/appointments", headers=headers, params={"date": day})
        assert r.status_code == 200, r.text
        answer = r.json()
        assert (answer["site_id"], answer["date"], answer["timezone"]) == (site_id, day, "Europe/Berlin")
        rows |= {item["load_id"]: item for item in answer["items"]}
    return rows


async def test_booked_walk_in_and_on_the_road_for_the_site_staff_only(client, settings, db):
    w = await loads_in_transit(client, settings, loads=3, depart_all=False)
    booked, walk_in, gone = w["loads"]
    site_id, yard_id = w["site"]["id"], w["yard"]["id"]

    slot = next_slot(ahead=2)
    r = await client.put(
        f"/driver/v1/loads/{booked['id']}/booking",
        headers=booked["device"],
        json={"slot_start": slot.isoformat()},
    )
    assert r.status_code == 200, r.text
    await depart(client, w, gone)  # through the queue first: a walk-in waiting would be called first
    r = await client.post(
        f"/driver/v1/loads/{walk_in['id']}/check-in",
        headers=walk_in["device"],
        json={"position": {"lat": BERLIN[1], "lon": BERLIN[0]}, "accuracy_m": 5},
    )
    assert r.status_code == 201, r.text
    ticket_id = r.json()["id"]
    r = await client.post(
        "/driver/v1/positions", headers=gone["device"], json={"load_id": gone["id"], "points": route(12)}
    )
    assert r.status_code == 200 and r.json()["accepted"] == 12, r.text

    # The mill's site manager: who comes to the gate today, booked or walked in, and where each stands.
    today = local_day(datetime.now(BERLIN_TIME))
    rows = await rows_by_load(client, site_id, w["mill"].headers, today, local_day(slot))
    assert set(rows) == {booked["id"], walk_in["id"], gone["id"]}
    a = rows[booked["id"]]
    assert (a["direction"], a["kind"], a["state"], a["ticket_id"], a["eta"]) == (
        "pickup",
        "booked",
        "booked",
        None,
        None,
    )
    assert datetime.fromisoformat(a["slot"]["starts_at"]) == slot
    assert a["carrier"] == {"id": w["carrier"].org_id, "name": "Haulers"}
    assert a["vehicle"] == {"id": booked["vehicle"]["id"], "plate": booked["vehicle"]["plate"]}
    assert a["driver"]["name"] == "Driver 0" and a["load_number"].endswith("/1")
    b = rows[walk_in["id"]]
    assert (b["kind"], b["state"], b["slot"], b["ticket_id"]) == ("walk_in", "checked_in", None, ticket_id)
    assert b["arrived_at"] is not None and a["arrived_at"] is None
    assert (rows[gone["id"]]["kind"], rows[gone["id"]]["state"]) == ("walk_in", "departed")
    # No prices anywhere in the answer.
    assert not any(word in r.text for word in ("price", "amount", "currency"))

    # The gate staff see the same day.
    staff = await rows_by_load(client, site_id, w["staff"].headers, today, local_day(slot))
    assert set(staff) == set(rows)

    # The buyer's yard: the departed truck is on its way, expected when tracking says.
    eta = await db.fetchval("SELECT eta_at FROM load_tracking WHERE load_id = $1", UUID(gone["id"]))
    assert eta is not None
    incoming = await rows_by_load(client, yard_id, w["buyer"].headers, local_day(eta))
    assert list(incoming) == [gone["id"]]
    row = incoming[gone["id"]]
    assert (row["direction"], row["state"], row["slot"], row["ticket_id"]) == (
        "delivery",
        "on_the_way",
        None,
        None,
    )
    assert datetime.fromisoformat(row["eta"]) == eta

    # Another organization's site is not found, shared or not; a driver gets nothing.
    for other, site in ((w["carrier"], site_id), (w["mill"], yard_id), (w["buyer"], site_id)):
        problem(await client.get(f"/sites/{site}/appointments", headers=other.headers), 404, "site_not_found")
    driver = await add_member(client, w["mill"], "driver")  # the mill's own, signed in
    refused = await client.get(f"/sites/{site_id}/appointments", headers=driver.headers)
    assert "items" not in problem(refused, 403, "permission_missing")
    phone = await client.get(f"/sites/{site_id}/appointments", headers=booked["device"])
    assert "items" not in problem(phone, 403, "wrong_credential_kind")
    # A day that does not exist is named as the field at fault.
    body = problem(
        await client.get(
            f"/sites/{site_id}/appointments", headers=w["mill"].headers, params={"date": "2026-02-30"}
        ),
        400,
        "validation_failed",
    )
    assert [e["field"] for e in body["errors"]] == ["date"]
