"""Schemathesis over the whole OpenAPI document, against a real `dispatch serve`.

Every operation gets generated requests, valid and invalid, and every answer is checked with all of
schemathesis's checks (no 5xx; the status, content type, headers and body are the ones documented;
invalid data is refused and valid data is not refused by validation; authentication is enforced).
The platform API runs with an admin session of an organization that plays shipper, consignee and
carrier, with every permission; the driver API (/driver/v1) with a device token.

Bounded for CI: a fixed number of examples per operation and a fixed seed. To run it longer:

    DISPATCH_FUZZ_EXAMPLES=500 DISPATCH_FUZZ_SEED=7 \
        python3 dev.py test tests/integration/test_openapi_conformance.py

More schemathesis options (e.g. `--include-operation-id getJob --report har`) go in DISPATCH_FUZZ_ARGS.

Not covered here: the websocket routes (not HTTP operations, so not in the OpenAPI document).
"""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from dispatch.settings import Settings
from tests.conftest import ROOT, RunningServer
from tests.support import Account, bootstrap_org
from tests.support import problem as problem_of

MAX_EXAMPLES = int(os.environ.get("DISPATCH_FUZZ_EXAMPLES", "15"))
SEED = int(os.environ.get("DISPATCH_FUZZ_SEED", "16"))
DRIVER_API = "^/driver/v1/"
HERE = Path(__file__).parent

pytestmark = pytest.mark.server


async def _arrange(base_url: str, settings: Settings) -> tuple[Account, str]:
    """The admin of a shipper-consignee-carrier organization, and a device token for a driver of it."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        admin = await bootstrap_org(http, settings, "Everything Co", ["shipper", "consignee", "carrier"])
        r = await http.post(
            "/fleet/drivers",
            headers=admin.headers,
            json={
                "email": "driver@everything.test",
                "name": "A Driver",
                "password": "correct horse battery staple",
                "phone": "+49 170 0000000",
                "licence_number": "L00001",
            },
        )
        assert r.status_code == 201, r.text
        r = await http.post(
            f"/orgs/{admin.org_id}/device-tokens",
            headers=admin.headers,
            json={"user_id": r.json()["user_id"], "name": "phone"},
        )
        assert r.status_code == 201, r.text
        return admin, str(r.json()["token"])


def schemathesis_run(
    base_url: str, token: str, *filters: str, report: Path
) -> subprocess.CompletedProcess[str]:
    """`schemathesis run` with every check, bounded by examples per operation and a fixed seed."""
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file", str(HERE / "schemathesis.toml"),
        "run", f"{base_url}/schema/openapi.json",
        "--header", f"Authorization: Bearer {token}",
        "--checks", "all",
        "--max-examples", str(MAX_EXAMPLES),
        "--seed", str(SEED),
        "--generation-database", "none",
        "--workers", "1",
        "--suppress-health-check", "all",
        "--no-color",
        "--report", "junit", "--report-junit-path", str(report),
        *filters,
        *shlex.split(os.environ.get("DISPATCH_FUZZ_ARGS", "")),
    ]  # fmt: skip
    env = os.environ | {"SCHEMATHESIS_HOOKS": "tests.integration.schemathesis_hooks"}
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200, check=False
    )


def _assert_clean(run: subprocess.CompletedProcess[str], server: RunningServer, output: Path) -> None:
    output.write_text(run.stdout + run.stderr)
    failures = run.stdout[run.stdout.find("FAILURES") :][:20000]
    log = server.log()
    assert run.returncode == 0, f"{failures}\n{run.stderr[-3000:]}\nfull output: {output}\n{log[-3000:]}"
    assert "Traceback" not in log, log[-5000:]


@pytest.fixture
def running(
    server_factory: Callable[..., RunningServer], settings: Settings
) -> tuple[RunningServer, Account, str]:
    server = server_factory()
    admin, device_token = asyncio.run(_arrange(server.base_url, settings))
    return server, admin, device_token


def test_platform_api_conforms_to_its_document(
    running: tuple[RunningServer, Account, str], tmp_path: Path
) -> None:
    server, admin, _ = running
    run = schemathesis_run(
        server.base_url, admin.token, "--exclude-path-regex", DRIVER_API, report=tmp_path / "junit.xml"
    )
    _assert_clean(run, server, tmp_path / "schemathesis.txt")


def test_driver_api_conforms_to_its_document(
    running: tuple[RunningServer, Account, str], tmp_path: Path
) -> None:
    server, _, device_token = running
    run = schemathesis_run(
        server.base_url, device_token, "--include-path-regex", DRIVER_API, report=tmp_path / "junit.xml"
    )
    _assert_clean(run, server, tmp_path / "schemathesis.txt")


async def test_openapi_names_problems_security_closed_bodies_and_text_dates(
    running: tuple[RunningServer, Account, str],
) -> None:
    server, admin, _ = running
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        doc = (await http.get("/schema/openapi.json")).json()
        operations = [
            (method.upper(), path, op)
            for path, item in doc["paths"].items()
            for method, op in item.items()
            if isinstance(op, dict) and "responses" in op
        ]
        ids = [op["operationId"] for _, _, op in operations]
        assert all(ids) and len(ids) == len(set(ids)), ids

        problem = {"$ref": "#/components/schemas/ProblemDetails"}
        for method, path, op in operations:
            responses = op["responses"]
            if path != "/healthz":
                assert responses["503"]["content"]["application/problem+json"]["schema"] == problem, path
            if op.get("security"):
                for status in ("401", "403"):
                    assert responses[status]["content"]["application/problem+json"]["schema"] == problem
            if "{" in path:
                assert "404" in responses, (method, path)
            if "requestBody" in op:
                assert {"400", "413", "415"} <= responses.keys(), (method, path)
        # Open: the health check, and the routes that exchange a password or a pairing code for a token.
        assert {op["operationId"] for m, p, op in operations if not op.get("security")} == {
            "health",
            "login",
            "driverPair",
            "driverPairSignIn",
        }
        assert "429" in doc["paths"]["/auth/login"]["post"]["responses"]
        for path in ("/driver/v1/pairing", "/driver/v1/pairing/sign-in"):
            assert {"401", "403", "429"} <= doc["paths"][path]["post"]["responses"].keys()

        schemas = doc["components"]["schemas"]
        assert set(schemas["ProblemDetails"]["required"]) == {"type", "title", "status", "detail", "code"}
        assert {"request_id", "errors"} <= schemas["ProblemDetails"]["properties"].keys()
        assert set(schemas["FieldError"]["required"]) == {"field", "reason", "source"}
        assert doc["components"]["securitySchemes"]["bearer"] == {
            "type": "http",
            "scheme": "bearer",
            "description": doc["components"]["securitySchemes"]["bearer"]["description"],
        }

        # Closed request bodies: the document says so, and the server refuses an unknown field.
        assert schemas["LoginRequest"]["additionalProperties"] is False
        assert schemas["JobCreate"]["additionalProperties"] is False
        r = await http.post("/auth/login", json={"email": admin.email, "password": "x", "admin": True})
        body = problem_of(r, 400, "validation_failed")
        assert body["errors"][0]["source"] == "body"

        # Bounds of 0 on optional fields and constraints on list items reach the document.
        point = schemas["PointIn"]["properties"]["battery_pct"]
        assert point["oneOf"][0]["minimum"] == 0
        seal_items = schemas["Seal"]["properties"]["seal_numbers"]["items"]
        assert seal_items["maxLength"] == 40 and seal_items["pattern"]

        # A query date-time is RFC 3339 text, as documented, never a unix time.
        search = doc["paths"]["/market/jobs"]["get"]["parameters"]
        pickup = next(p for p in search if p["name"] == "pickup_from")["schema"]["oneOf"][0]
        assert pickup == {"type": "string", "format": "date-time"}
        for number in ("-700", "0.5", "1700000000"):
            r = await http.get("/market/jobs", params={"pickup_from": number}, headers=admin.headers)
            assert problem_of(r, 400, "validation_failed")["errors"][0]["field"] == "pickup_from"
        r = await http.get(
            "/market/jobs", params={"pickup_from": "2026-01-01T00:00:00+01:00"}, headers=admin.headers
        )
        assert r.status_code == 200, r.text
