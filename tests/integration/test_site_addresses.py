"""A site's address in parts, Chinese or European order, composed into the one-line `address`."""

from uuid import UUID

import pytest

from tests.market_support import square
from tests.support import bootstrap_org, problem

TIANJIN_PORT = (117.744, 39.004)
VIENNA_PORT = (16.4167, 48.2255)

XINGANG = {
    "province": "天津市",
    "city": "天津市",
    "district": "滨海新区",
    "street": "新港二号路",
    "number": "12",
    "postcode": "300456",
}
HANDELSKAI = {"street": "Handelskai", "number": "94", "postcode": "1020", "city": "Wien", "country": "AT"}


def site_body(name: str, at: tuple[float, float] = TIANJIN_PORT, **address) -> dict:
    lon, lat = at
    return {
        "name": name,
        "location": {"lat": lat, "lon": lon},
        "geofence": square(lon, lat),
        "timezone": "Asia/Shanghai",
        **address,
    }


async def _create(client, owner, body) -> dict:
    r = await client.post("/sites", headers=owner.headers, json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def test_chinese_parts_compose_the_one_line_address_largest_unit_first(client, settings, db):
    buyer = await bootstrap_org(client, settings, "Tianjin Fabrication", ["consignee"])
    site = await _create(client, buyer, site_body("Port yard", address_parts={**XINGANG, "country": "CN"}))
    assert site["address"] == "天津市滨海新区新港二号路12号"
    assert site["address_parts"] == {**XINGANG, "country": "CN"}
    # Read back as stored, by the owner and in its list.
    again = (await client.get(f"/sites/{site['id']}", headers=buyer.headers)).json()
    assert again["address"] == site["address"] and again["address_parts"] == site["address_parts"]
    listed = (await client.get("/sites", headers=buyer.headers)).json()
    assert [s["address"] for s in listed] == ["天津市滨海新区新港二号路12号"]
    assert await db.fetchval("SELECT country FROM sites WHERE id = $1", UUID(site["id"])) == "CN"


async def test_parts_without_a_country_are_in_the_organizations_country(client, settings):
    buyer = await bootstrap_org(client, settings, "Tianjin Fabrication", ["consignee"])
    r = await client.patch(f"/orgs/{buyer.org_id}", headers=buyer.headers, json={"country": "CN"})
    assert r.status_code == 200, r.text
    site = await _create(client, buyer, site_body("Port yard", address_parts=XINGANG))
    assert site["address_parts"]["country"] == "CN"
    assert site["address"] == "天津市滨海新区新港二号路12号"


async def test_european_parts_compose_street_number_postcode_city_country(client, settings):
    yard = await bootstrap_org(client, settings, "Wiener Metallbau", ["consignee"])
    site = await _create(
        client, yard, site_body("Hafen", VIENNA_PORT, address_parts=HANDELSKAI, timezone="Europe/Vienna")
    )
    assert site["address"] == "Handelskai 94, 1020 Wien, AT"
    assert site["address_parts"] == {**HANDELSKAI, "province": None, "district": None}


async def test_a_one_line_address_is_kept_as_written_as_before(client, settings, db):
    yard = await bootstrap_org(client, settings, "Wiener Metallbau", ["consignee"])
    site = await _create(
        client, yard, site_body("Hafen", VIENNA_PORT, address="Hafen Wien, Freudenauer Hafenstr. 8")
    )
    assert site["address"] == "Hafen Wien, Freudenauer Hafenstr. 8"
    assert site["address_parts"] is None
    assert await db.fetchval("SELECT country FROM sites WHERE id = $1", UUID(site["id"])) is None
    # Both given: the line as the client wrote it, the parts beside it.
    site = await _create(
        client, yard, site_body("Lager", VIENNA_PORT, address="Lager 3, Handelskai", address_parts=HANDELSKAI)
    )
    assert site["address"] == "Lager 3, Handelskai" and site["address_parts"]["city"] == "Wien"


@pytest.mark.parametrize(
    ("address", "status", "code", "field"),
    [
        ({}, 422, "address_required", "$.address"),
        ({"address_parts": {**XINGANG, "country": "ZZ"}}, 422, "invalid_country", "$.address_parts.country"),
        (
            {"address_parts": {**XINGANG, "country": "cn"}},
            400,
            "validation_failed",
            "$.address_parts.country",
        ),
        ({"address_parts": {**XINGANG, "city": "   "}}, 400, "validation_failed", "$.address_parts.city"),
        ({"address_parts": {**XINGANG, "street": ""}}, 400, "validation_failed", "$.address_parts.street"),
        (
            {"address_parts": {"province": "天津市", "street": "新港二号路"}},
            400,
            "validation_failed",
            "$.address_parts",
        ),
        ({"address_parts": {**XINGANG, "floor": "3"}}, 400, "validation_failed", "$.address_parts"),
        (
            {"address_parts": {**XINGANG, "number": "1" * 21}},
            400,
            "validation_failed",
            "$.address_parts.number",
        ),
        ({"address": "x", "address_parts": None, "addr": 1}, 400, "validation_failed", "$"),
    ],
)
async def test_a_bad_address_is_refused_naming_the_field_and_nothing_is_stored(
    client, settings, db, address, status, code, field
):
    buyer = await bootstrap_org(client, settings, "Tianjin Fabrication", ["consignee"])
    events = await db.fetchval("SELECT count(*) FROM events")
    refused = problem(
        await client.post("/sites", headers=buyer.headers, json=site_body("Yard", **address)), status, code
    )
    assert field in [e["field"] for e in refused["errors"]], refused
    assert await db.fetchval("SELECT count(*) FROM sites") == 0
    assert await db.fetchval("SELECT count(*) FROM events") == events


async def test_changing_the_address_keeps_line_and_parts_in_step(client, settings, db):
    buyer = await bootstrap_org(client, settings, "Tianjin Fabrication", ["consignee"])
    site = await _create(client, buyer, site_body("Port yard", address_parts={**XINGANG, "country": "CN"}))
    path = f"/sites/{site['id']}"

    # New parts alone: the line is composed again.
    r = await client.patch(path, headers=buyer.headers, json={"address_parts": {**XINGANG, "number": "16号"}})
    assert r.status_code == 200, r.text
    # The organization is Austrian: parts without a country are in its country, written the European way.
    assert r.json()["address"] == "新港二号路 16号, 300456 天津市, AT"
    r = await client.patch(
        path, headers=buyer.headers, json={"address_parts": {**XINGANG, "country": "CN", "number": "16号"}}
    )
    assert r.json()["address"] == "天津市滨海新区新港二号路16号"

    # Other changes leave both as they are.
    r = await client.patch(path, headers=buyer.headers, json={"name": "Xingang yard"})
    assert (
        r.json()["address"] == "天津市滨海新区新港二号路16号"
        and r.json()["address_parts"]["number"] == "16号"
    )

    # A bad change is refused whole.
    problem(
        await client.patch(
            path, headers=buyer.headers, json={"name": "X", "address_parts": {**XINGANG, "country": "ZZ"}}
        ),
        422,
        "invalid_country",
    )
    assert (await client.get(path, headers=buyer.headers)).json()["name"] == "Xingang yard"

    # A new one-line address alone: the old parts no longer describe it, and go.
    r = await client.patch(path, headers=buyer.headers, json={"address": "天津港东疆港区"})
    assert r.json()["address"] == "天津港东疆港区" and r.json()["address_parts"] is None
    assert await db.fetchval("SELECT country FROM sites WHERE id = $1", UUID(site["id"])) is None

    # Parts again, then null parts: dropped, the line stays.
    r = await client.patch(path, headers=buyer.headers, json={"address_parts": {**XINGANG, "country": "CN"}})
    assert r.json()["address"] == "天津市滨海新区新港二号路12号"
    r = await client.patch(path, headers=buyer.headers, json={"address_parts": None})
    assert r.json()["address"] == "天津市滨海新区新港二号路12号" and r.json()["address_parts"] is None


async def test_another_organization_sees_a_shared_sites_composed_address(client, settings):
    mill = await bootstrap_org(client, settings, "Tangshan Steel", ["shipper"])
    carrier = await bootstrap_org(client, settings, "Haulers", ["carrier", "consignee"])
    body = site_body(
        "Mill gate",
        (118.18, 39.63),
        shared=True,
        address_parts={
            "country": "CN",
            "province": "河北省",
            "city": "唐山市",
            "district": "路北区",
            "street": "建设北路",
            "number": "88",
        },
    )
    site = await _create(client, mill, body)
    seen = (await client.get(f"/sites/{site['id']}", headers=carrier.headers)).json()
    assert seen["address"] == "河北省唐山市路北区建设北路88号" and seen["address_parts"]["city"] == "唐山市"
