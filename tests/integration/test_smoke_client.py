from tests.support import bootstrap_org


async def test_me(client, settings):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    r = await client.get("/me", headers=acme.headers)
    assert r.status_code == 200
    assert r.json()["organization"]["id"] == acme.org_id
