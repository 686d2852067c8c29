"""`GET /carriers?q=`: the carriers a poster picks for a tender. Only carrier organizations, never
the caller's own; searched by a piece of the name in any case; limited; for signed-in members with
`jobs.post` only."""

from __future__ import annotations

import secrets

from tests.support import add_member, bootstrap_org, problem


async def test_carrier_choices_list_only_carriers_by_name_for_posters(client, settings):
    # A tag in every name keeps this test's organizations apart from other tests' in the database.
    tag = secrets.token_hex(3)
    mill = await bootstrap_org(client, settings, f"Mill {tag}", ["shipper", "carrier"])
    north = await bootstrap_org(client, settings, f"Nordfracht {tag}", ["carrier"])
    south = await bootstrap_org(client, settings, f"Southern Haul {tag}", ["carrier", "consignee"])
    buyer = await bootstrap_org(client, settings, f"Buyer Haul {tag}", ["consignee"])

    r = await client.get("/carriers", headers=mill.headers, params={"q": tag})
    assert r.status_code == 200, r.text
    # Carriers only (not the buyer), by name; the caller's own organization left out though it carries.
    assert r.json() == [
        {"id": north.org_id, "name": f"Nordfracht {tag}"},
        {"id": south.org_id, "name": f"Southern Haul {tag}"},
    ]

    # A piece of the name, any case; a typed % is a letter, not a wildcard.
    r = await client.get("/carriers", headers=mill.headers, params={"q": f"HAUL {tag}"})
    assert [c["id"] for c in r.json()] == [south.org_id]
    r = await client.get("/carriers", headers=mill.headers, params={"q": f"%{tag}"})
    assert r.json() == []
    # The other carrier sees the mill (it carries too) and not itself.
    r = await client.get("/carriers", headers=north.headers, params={"q": tag})
    assert [c["id"] for c in r.json()] == [mill.org_id, south.org_id]
    assert buyer.org_id not in [c["id"] for c in r.json()]

    # Limited: at most `limit`, by name; a limit outside 1 to 50 is refused.
    r = await client.get("/carriers", headers=mill.headers, params={"q": tag, "limit": 1})
    assert [c["id"] for c in r.json()] == [north.org_id]
    problem(
        await client.get("/carriers", headers=mill.headers, params={"limit": 51}), 400, "validation_failed"
    )

    # Signed in and allowed to post jobs: a stranger is 401, a driver (no jobs.post) 403.
    problem(await client.get("/carriers", params={"q": tag}), 401)
    driver = await add_member(client, north, "driver")
    problem(await client.get("/carriers", headers=driver.headers, params={"q": tag}), 403)
