"""Problem details in the language the request asks for (issue 18, item 2): with `Accept-Language`
asking for Chinese, `detail` is the catalogue's Chinese text with the values that matter, and
`Content-Language: zh-CN`; `code`, `type`, `title`, `status` and every other member are unchanged.
English, no header, or a language without a catalogue get the English answer, `Content-Language: en`.
Whoever answers the problem: a handler, a guard, the framework, the edge's middlewares, the
idempotency middleware, or the refusal of a websocket's upgrade."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from dispatch.accounts import throttle
from dispatch.i18n import number
from tests.gate_support import dispatched_loads
from tests.market_support import BERLIN
from tests.support import add_member, bootstrap_org, problem, role_ids

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
EN = {"Accept-Language": "en-US,en;q=0.9"}
_HAN = re.compile(r"[\u4e00-\u9fff]")


def chinese(response: Any, status: int, code: str) -> dict[str, Any]:
    """A problem answered in Chinese: its detail has Chinese text, it says so, and the rest is as ever."""
    body = problem(response, status, code)
    assert response.headers["content-language"] == "zh-CN", response.headers
    assert _HAN.search(body["detail"]), body
    assert body["type"] == f"/problems/{code}"
    assert "{" not in body["detail"], body  # every placeholder filled
    return body


def english(response: Any, status: int, code: str) -> dict[str, Any]:
    body = problem(response, status, code)
    assert response.headers["content-language"] == "en", response.headers
    assert not _HAN.search(body["detail"]), body
    return body


async def test_a_validation_failure_names_the_field_in_chinese_and_keeps_the_rest(client, settings, db):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    [viewer] = await role_ids(client, acme, "viewer")
    bad = {"email": "x@y.test", "name": "N", "password": "short", "role_ids": [viewer]}
    url = f"/orgs/{acme.org_id}/members"
    same_id = {"X-Request-ID": "lang-test-1"}

    zh = await client.post(url, headers=acme.headers | ZH | same_id, json=bad)
    en = await client.post(url, headers=acme.headers | EN | same_id, json=bad)
    plain = await client.post(url, headers=acme.headers | same_id, json=bad)

    zh_body = chinese(zh, 400, "validation_failed")
    assert "$.password" in zh_body["detail"]
    assert zh_body["title"] == "Bad Request"
    en_body = english(en, 400, "validation_failed")
    assert en_body["detail"] == "$.password: Expected `str` of length >= 10"
    # Only the detail differs; the English answer is the answer without a header, byte for byte.
    assert {k: v for k, v in zh_body.items() if k != "detail"} == {
        k: v for k, v in en_body.items() if k != "detail"
    }
    assert en.content == plain.content
    assert plain.headers["content-language"] == "en"
    assert await db.fetchval("SELECT count(*) FROM users WHERE email = 'x@y.test'") == 0


async def test_several_fields_are_all_named(client, settings):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    r = await client.post(
        f"/orgs/{acme.org_id}/members",
        headers=acme.headers | ZH,
        json={"email": "not-an-email", "name": "", "password": "long enough pw", "role_ids": ["nope"]},
    )
    body = chinese(r, 400, "validation_failed")
    for error in body["errors"]:
        assert error["field"] in body["detail"], body


async def test_a_language_without_a_catalogue_gets_english_and_a_later_chinese_choice_gets_chinese(client):
    r = await client.get("/me", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert english(r, 401, "token_missing")["detail"] == "This endpoint needs a bearer token."
    chinese(await client.get("/me", headers={"Accept-Language": "fr, zh-Hans;q=0.5"}), 401, "token_missing")
    english(
        await client.get("/me", headers={"Accept-Language": "fr, zh;q=0.5, en;q=0.7"}), 401, "token_missing"
    )


async def test_not_found_and_token_missing_in_chinese(client):
    body = chinese(await client.get("/no/such/route", headers=ZH), 404, "not_found")
    assert body["title"] == "Not Found"
    body = chinese(await client.get("/me", headers=ZH), 401, "token_missing")
    assert body["title"] == "Unauthorized" and body["request_id"]


async def test_login_throttling_says_how_many_seconds_to_wait_in_chinese(client, settings):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    wrong = {"email": acme.email, "password": "wrong password 1"}
    for _ in range(throttle.ACCOUNT_ATTEMPTS):
        chinese(await client.post("/auth/login", headers=ZH, json=wrong), 401, "bad_credentials")
    r = await client.post("/auth/login", headers=ZH, json=wrong)
    body = chinese(r, 429, "login_throttled")
    seconds = int(r.headers["retry-after"])
    assert body["retry_after"] == seconds
    assert f"{seconds} 秒" in body["detail"], body

    r = await client.post("/auth/login", headers=EN, json=wrong)
    assert english(r, 429, "login_throttled")["detail"].endswith(
        f"try again in {r.headers['retry-after']} seconds."
    )


async def test_a_body_over_the_limit_says_the_limit_in_chinese(client, settings, db):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    [viewer] = await role_ids(client, acme, "viewer")
    huge = "x" * (settings.max_body_bytes + 1)
    body = {"email": "big@y.test", "name": huge, "password": "long enough pw", "role_ids": [viewer]}
    r = await client.post(f"/orgs/{acme.org_id}/members", headers=acme.headers | ZH, json=body)
    detail = chinese(r, 413, "body_too_large")["detail"]
    assert number("zh-CN", settings.max_body_bytes) in detail, detail
    english(
        await client.post(f"/orgs/{acme.org_id}/members", headers=acme.headers, json=body),
        413,
        "body_too_large",
    )
    assert await db.fetchval("SELECT count(*) FROM users WHERE email = 'big@y.test'") == 0


async def test_a_nul_character_is_refused_in_chinese_naming_the_field(client, settings):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    # In the query string: refused by the edge's middleware, before routing.
    r = await client.get("/sites", headers=acme.headers | ZH, params={"name": "Yard\x00"})
    body = chinese(r, 400, "invalid_text")
    assert body["errors"] == [{"field": "name", "reason": body["errors"][0]["reason"], "source": "query"}]
    assert "name" in body["detail"]
    # In the body: refused where it is decoded.
    r = await client.post("/auth/login", headers=ZH, json={"email": "a\x00@example.test", "password": "x"})
    assert "$.email" in chinese(r, 400, "invalid_text")["detail"]


async def test_the_distance_to_the_gate_is_in_the_chinese_detail(client, settings):
    w = await dispatched_loads(client, settings, loads=1)
    [load] = w["loads"]
    far = {"lat": BERLIN[1] + 0.05, "lon": BERLIN[0]}  # about 5.1 km north of the gate
    r = await client.post(
        f"/driver/v1/loads/{load['id']}/check-in",
        headers=load["device"] | ZH,
        json={"position": far, "accuracy_m": 5.0},
    )
    body = chinese(r, 422, "outside_geofence")
    assert f"{number('zh-CN', body['distance_m'])} 米" in body["detail"], body
    assert w["site"]["name"] in body["detail"]


async def test_a_missing_permission_is_named_in_chinese(client, settings):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    viewer = await add_member(client, acme, "viewer")
    r = await client.get(f"/orgs/{acme.org_id}/members", headers=viewer.headers | ZH)
    body = chinese(r, 403, "permission_missing")
    assert body["permissions"] == ["org.manage_members"] and "org.manage_members" in body["detail"]


@pytest.mark.server
async def test_refused_sockets_and_the_idempotency_middleware_answer_in_chinese(server_factory, settings):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await dispatched_loads(http, settings, loads=1)
        [load] = w["loads"]
        # The driver API's idempotency middleware answers before any handler runs.
        r = await http.post(
            "/driver/v1/positions",
            headers=load["device"] | ZH | {"Idempotency-Key": "k" * 201},
            json={"points": []},
        )
        chinese(r, 400, "bad_idempotency_key")

    ws = server.ws_url
    # Refused by the bearer middleware (through refuse_failed_sockets) ...
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{ws}/market/feed", additional_headers=ZH):
            pass
    response = refused.value.response
    assert response.status_code == 401 and response.headers["content-language"] == "zh-CN"
    body = json.loads(response.body)
    assert body["code"] == "token_missing" and body["title"] == "Unauthorized" and _HAN.search(body["detail"])

    # ... and by the edge's NUL guard (its own refusal of the upgrade).
    job_id = w["job"]["id"]
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{ws}/tracking/jobs/{job_id}/live?share=dsp_shr_%00", additional_headers=ZH):
            pass
    response = refused.value.response
    assert response.status_code == 400 and response.headers["content-language"] == "zh-CN"
    body = json.loads(response.body)
    assert body["code"] == "invalid_text" and _HAN.search(body["detail"]) and "share" in body["detail"]

    # English, asked or not: the English answer.
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{ws}/market/feed"):
            pass
    response = refused.value.response
    assert response.headers["content-language"] == "en"
    assert json.loads(response.body)["detail"] == "This endpoint needs a bearer token."
