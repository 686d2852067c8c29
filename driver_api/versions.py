"""Which driver apps the driver API serves: the app sends `X-App-Version: <semver>` with every
request; one older than `DISPATCH_DRIVER_APP_MIN_VERSION` is answered 426 `upgrade_required` (its
problem body names `min_version`), so a phone left on an old build says "update the app" instead of
failing on a contract it no longer fits. No header: served (the apps already in the field send
none). A header that is not a semantic version: 400 `invalid_app_version`."""

from __future__ import annotations

import re
from typing import Any

import semver
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.params import HeaderParameter, ParameterKwarg

from dispatch.errors import BadRequest, UpgradeRequired
from dispatch.openapi import APP_VERSION_HEADER

# semver.org's grammar (major.minor.patch, then -pre-release and +build), in ASCII digits ([0-9],
# not \d: Python's \d takes any Unicode digit, the document's ECMA pattern only ASCII ones).
_NUMBER = "(0|[1-9][0-9]*)"
_PRE = "(0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
PATTERN = rf"^{_NUMBER}\.{_NUMBER}\.{_NUMBER}(-{_PRE}(\.{_PRE})*)?(\+[0-9a-zA-Z-]+(\.[0-9a-zA-Z-]+)*)?$"
MAX_LENGTH = 64
_VERSION = re.compile(PATTERN)

# The header as every driver route documents it (a parameter of the driver API's router).
APP_VERSION: ParameterKwarg = HeaderParameter(
    annotation=str | None,
    name=APP_VERSION_HEADER,
    required=False,
    pattern=PATTERN,
    max_length=MAX_LENGTH,
    description=(
        "The app's version (semantic versioning, e.g. 2.1.0). Older than the server's minimum "
        "(DISPATCH_DRIVER_APP_MIN_VERSION): 426 upgrade_required. Absent: served."
    ),
)


async def app_version_served(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A guard on the driver API: refuses a malformed version (400) and one below the minimum (426)."""
    sent = connection.headers.get(APP_VERSION_HEADER)
    if sent is None or connection.scope.get("method") == "OPTIONS":
        return
    refusal = version_refusal(sent, connection.app.state.runtime.settings.driver_app_min_version)
    if refusal is not None:
        raise refusal


def version_refusal(sent: str, minimum: str | None) -> BadRequest | UpgradeRequired | None:
    """Why the app version `sent` is not served (the guard's answer), or None when it is."""
    if len(sent) > MAX_LENGTH or not _VERSION.fullmatch(sent):
        return BadRequest(
            f"{APP_VERSION_HEADER} must be the app's semantic version, such as 2.1.0.",
            code="invalid_app_version",
        )
    if minimum is not None and semver.Version.parse(sent) < semver.Version.parse(minimum):
        return UpgradeRequired(
            f"This app ({sent}) is older than the server serves: update it to {minimum} or newer.",
            min_version=minimum,
            params={"min_version": minimum},
        )
    return None
