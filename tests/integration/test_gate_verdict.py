"""What the gate's code check names for gate staff: a valid load code names the load by its short
number (as the driver's phone shows it), the truck's plate as the carrier wrote it, the driver and the
carrier; a code the gate does not know names nothing."""

from __future__ import annotations

import pytest

from tests.gate_support import dispatched_loads
from tests.support import problem

pytestmark = pytest.mark.server


async def test_a_valid_code_names_the_load_number_the_plate_the_driver_and_the_carrier(client, settings):
    w = await dispatched_loads(client, settings, loads=2, plates=["b-gt 100", "B-GT 101"])
    first, second = w["loads"]
    url, headers = "/gate/verify", w["staff"].headers

    async def verify(code: str, plate: str) -> dict:
        r = await client.post(
            url, headers=headers, json={"site_id": w["site"]["id"], "code": code, "plate": plate}
        )
        assert r.status_code == 200, r.text
        return r.json()

    verdict = await verify(second["pickup_code"], "bgt101")
    assert verdict["result"] == "valid"
    assert verdict["load_id"] == second["id"]
    assert verdict["load_number"] == f"PO-4711/{second['seq']}" != f"PO-4711/{first['seq']}"
    assert (verdict["plate"], verdict["plate_display"]) == ("BGT101", "B-GT 101")
    assert verdict["driver_name"] == "Driver 1"
    assert verdict["carrier_name"] == "Haulers"

    unknown = await verify("WRONG-CODE-1", "B-GT 101")
    assert unknown["result"] == "unknown_code"
    assert [unknown.get(k) for k in ("load_number", "plate_display", "carrier_name", "driver_name")] == [
        None
    ] * 4


async def test_a_code_checked_at_another_organizations_site_is_not_found_and_not_logged(client, settings, db):
    w = await dispatched_loads(client, settings, loads=1)
    load, site_id = w["loads"][0], w["site"]["id"]
    body = {"site_id": site_id, "code": load["pickup_code"], "plate": "B-GT 100"}
    # The carrier has no gate at the mill's site: even the load's own valid code is not checked there.
    r = await client.post("/gate/verify", headers=w["carrier"].headers, json=body)
    assert problem(r, 404, "site_not_found")
    assert await db.fetchval("SELECT count(*) FROM gate_verifications WHERE site_id = $1", site_id) == 0
    # At its own gate the same check is answered and logged once.
    r = await client.post("/gate/verify", headers=w["staff"].headers, json=body)
    assert r.status_code == 200 and r.json()["result"] == "valid", r.text
    logged = await db.fetch("SELECT result, plate FROM gate_verifications WHERE site_id = $1", site_id)
    assert [(row["result"], row["plate"]) for row in logged] == [("valid", "BGT100")]
