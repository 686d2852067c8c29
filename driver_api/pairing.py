"""Pairing a phone, under /driver/v1 but before the phone has a credential: these two routes are open
(no bearer token) and outside the device-only guard of the rest of the driver API. Each answers the
phone's own device token, tracker id, driver and organization (dispatch/accounts/pairing.py)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, post
from litestar.params import JSONBody

from dispatch.accounts import pairing
from dispatch.accounts.models import Paired, PairWithCode, PairWithPassword
from dispatch.accounts.throttle import LoginThrottled
from dispatch.deps import RuntimeDep
from dispatch.errors import problem_response
from dispatch.openapi import problem_spec

# Both answer 403 not_a_driver (an account, or a code's member, without the drive permission).
_NOT_A_DRIVER = {403: problem_spec(403)}


def _address(request: Request[Any, Any, Any]) -> str:
    # The peer's address; behind a proxy, `dispatch serve --proxy-headers` makes it the client's.
    return request.client.host if request.client else "unknown"


@post(
    "/pairing",
    operation_id="driverPair",
    status_code=201,
    opt={"exclude_from_auth": True},
    responses=_NOT_A_DRIVER,
    summary="Pair this phone with a one-time code from the dispatcher: its own device token",
    description=(
        "No credential. The code (ABCD-2345, with or without the dash, any case) works once, until it "
        "expires. Wrong, used and expired codes are 401 (pairing_code_invalid, pairing_code_used, "
        "pairing_code_expired) and count against the client's address: 429 pairing_throttled with "
        "Retry-After once it must wait."
    ),
)
async def driver_pair(
    data: JSONBody[PairWithCode], runtime: RuntimeDep, request: Request[Any, Any, Any]
) -> Paired:
    return await pairing.redeem(
        runtime.db, data, secret=runtime.settings.secret_key, address=_address(request)
    )


@post(
    "/pairing/sign-in",
    operation_id="driverPairSignIn",
    status_code=201,
    opt={"exclude_from_auth": True},
    responses=_NOT_A_DRIVER,
    summary="Pair this phone by signing in with the driver's own account: its own device token",
    description=(
        "No credential. The login's rules, throttling and errors (POST /auth/login); the account must "
        "hold the drive permission in the organization (else 403 not_a_driver)."
    ),
)
async def driver_pair_sign_in(
    data: JSONBody[PairWithPassword], runtime: RuntimeDep, request: Request[Any, Any, Any]
) -> Paired:
    return await pairing.sign_in(runtime.db, runtime.passwords, data, address=_address(request))


def _throttled(_: Request[Any, Any, Any], exc: LoginThrottled) -> Response[dict[str, Any]]:
    return problem_response(
        exc.status,
        exc.code,
        exc.detail,
        exc.extra,
        headers={"Retry-After": str(exc.retry_after_s)},
        params=exc.params,
    )


def pairing_router() -> Router:
    return Router(
        path="/driver/v1",
        route_handlers=[driver_pair, driver_pair_sign_in],
        # No app-version guard here: pairing is the smallest contract there is, so an old app still
        # pairs, and is then told to update by the first driver route it calls (426).
        exception_handlers={LoginThrottled: _throttled},
        tags=["driver"],
    )
