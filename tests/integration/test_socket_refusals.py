"""Every live socket is accepted only once its caller is authenticated and authorized; otherwise its
upgrade gets the problem-details answer the same failure gets over HTTP (dispatch/errors.py,
dispatch/realtime/session.py), whichever check refused it: the bearer middleware, a route guard
or the handler's own check."""

import json
import uuid
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.gate_support import dispatched_loads

pytestmark = pytest.mark.server


async def _refusal(url: str, **kw: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(InvalidStatus) as exc:
        async with connect(url, **kw):
            pass
    response = exc.value.response
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = json.loads(response.body)
    assert body["status"] == response.status_code and body["detail"] and body["request_id"]
    assert body["type"] == f"/problems/{body['code']}"
    return response.status_code, body


async def test_refused_sockets_get_the_problem_answer_of_their_failure(server_factory, settings):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await dispatched_loads(http, settings, loads=1)
    ws = server.ws_url
    site_id = w["site"]["id"]

    # The bearer middleware: no token, a forged one.
    for url in (f"{ws}/market/feed", f"{ws}/driver/v1/live", f"{ws}/gate/sites/{site_id}/board/live"):
        status, body = await _refusal(url)
        assert (status, body["code"]) == (401, "token_missing"), url
    status, body = await _refusal(f"{ws}/market/feed?access_token=u1.forged.token")
    assert status == 401 and body["code"].startswith("token_"), body

    # A guard on the credential's kind: a user's session on the phone's socket, a phone's on the board.
    status, body = await _refusal(f"{ws}/driver/v1/live", additional_headers=w["carrier"].headers)
    assert (status, body["code"]) == (403, "wrong_credential_kind")
    status, body = await _refusal(
        f"{ws}/gate/sites/{site_id}/board/live", additional_headers=w["loads"][0]["device"]
    )
    assert status == 403 and body["code"] == "wrong_credential_kind", body

    # The handler's own check, before it accepts: a site that is not the caller's.
    status, body = await _refusal(
        f"{ws}/gate/sites/{uuid.uuid4()}/board/live", additional_headers=w["staff"].headers
    )
    assert (status, body["code"]) == (404, "site_not_found")

    # The same caller and site that were refused elsewhere open it.
    async with connect(
        f"{ws}/gate/sites/{site_id}/board/live", additional_headers=w["staff"].headers
    ) as board:
        first = json.loads(await board.recv())
        assert first["waiting"] == [] and "at_docks" in first
