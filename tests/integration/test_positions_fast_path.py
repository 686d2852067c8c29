"""The common GPS batch is served in front of Litestar's router (driver_api/positions.py); a batch
with an Idempotency-Key still goes through the route. Both must answer alike, in success and in
refusal, and the route keeps what only it decides."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support import problem
from tests.tracking_support import loads_in_transit, route

# What differs between two answers by design: the request id.
_OWN = {"x-request-id", "idempotency-replayed"}


def _headers(r: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in r.headers.items() if k not in _OWN}


def _same_but_load(answer: dict[str, Any], other: dict[str, Any], load_ids: tuple[str, str]) -> None:
    mine, theirs = load_ids
    assert [x["load_id"] for x in answer["loads"]] == [mine]
    assert {**answer, "loads": [{**x, "load_id": theirs} for x in answer["loads"]]} == other


async def test_the_fast_path_and_the_route_answer_alike(client, settings):
    w = await loads_in_transit(client, settings, loads=2)
    fast, routed = w["loads"]
    fixes = route(6)
    fixes[3] = {**fixes[3], "lat": 91.0}  # rejected with its reason, the rest stored
    fixes[4] = {**fixes[4], "accuracy_m": None}  # NaN as JSON carries it: rejected, not the batch

    def post(load: dict[str, Any], body: dict[str, Any], key: str | None, lang: str = "en") -> Any:
        headers = load["device"] | {"Accept-Language": lang, "X-App-Version": "2.1.0"}
        if key is not None:
            headers["Idempotency-Key"] = key  # the idempotency middleware's, then the route's
        return client.post("/driver/v1/positions", headers=headers, json=body)

    a = await post(fast, {"points": fixes, "load_id": fast["id"]}, None)
    b = await post(routed, {"points": fixes, "load_id": routed["id"]}, "same-batch-1")
    assert a.status_code == b.status_code == 200, (a.text, b.text)
    assert a.json()["accepted"] == 4 and [x["reason"] for x in a.json()["rejected"]] == [
        "latitude_out_of_range",
        "not_finite",
    ]
    _same_but_load(a.json(), b.json(), (fast["id"], routed["id"]))
    assert _headers(a) == _headers(b)

    # Sent again: every point a duplicate, on both ways.
    a = await post(fast, {"points": fixes, "load_id": fast["id"]}, None)
    b = await post(routed, {"points": fixes, "load_id": routed["id"]}, "same-batch-2")
    assert a.json()["duplicates"] == 4 and a.json()["accepted"] == 0
    _same_but_load(a.json(), b.json(), (fast["id"], routed["id"]))

    # Refused by the pipeline (another driver's load): the same problem, in the language asked for.
    for lang in ("en", "zh-CN"):
        a = await post(fast, {"points": fixes, "load_id": routed["id"]}, None, lang)
        b = await post(fast, {"points": fixes, "load_id": routed["id"]}, f"not-mine-{lang}", lang)
        problem(a, 404, "load_not_found")
        assert a.json() | {"request_id": "-"} == b.json() | {"request_id": "-"}
        assert _headers(a) == _headers(b)


async def test_what_the_route_decides_is_still_decided_there(client, settings, db):
    w = await loads_in_transit(client, settings)
    load = w["loads"][0]
    body = {"points": route(2), "load_id": load["id"]}
    url = "/driver/v1/positions"
    # Lenient decoding (a number as text) is the route's: the strict fast path hands the body on
    # as it came, and the route stores it as it always did.
    lenient = {"points": [{**body["points"][0], "lat": str(body["points"][0]["lat"])}], "load_id": load["id"]}
    assert (await client.post(url, headers=load["device"], json=lenient)).json()["accepted"] == 1
    problem(await client.post(url, headers=load["device"] | {"X-App-Version": "two"}, json=body), 400)
    problem(await client.post(url, headers={"Authorization": "Bearer dsp_dev_nonsense"}, json=body), 401)
    problem(await client.post(url, headers=w["carrier"].headers, json=body), 403, "wrong_credential_kind")
    problem(await client.post(url + "?x=1", headers=load["device"], json={"points": []}), 400)
    assert await db.fetchval("SELECT count(*) FROM positions WHERE load_id = $1", load["id"]) == 1
