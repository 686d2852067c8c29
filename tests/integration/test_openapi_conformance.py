"""Schemathesis over the whole OpenAPI document, against a real `dispatch serve`.

Every operation gets generated requests, valid and invalid, and every answer is checked with all of
schemathesis's checks (no 5xx; the status, content type, headers and body are the ones documented;
invalid data is refused and valid data is not refused by validation; authentication is enforced).
The platform API runs with an admin session of an organization that plays shipper, consignee and
carrier, with every permission; the driver API (/driver/v1) with a device token.

Bounded for CI: a fixed number of examples per operation and a fixed seed. To run it longer:

    DISPATCH_FUZZ_EXAMPLES=500 DISPATCH_FUZZ_SEED=7 \
        python3 dev.py test tests/integration/test_openapi_conformance.py

Not covered here: the websocket routes (not HTTP operations, so not in the OpenAPI document).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from dispatch.settings import Settings
from tests.conftest import ROOT, RunningServer
from tests.support import Account, bootstrap_org

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
