"""`dispatch demo --exit` and `dispatch simulate` as a newcomer runs them: subprocesses on a fresh
state directory with no DATABASE_URL (the embedded PostgreSQL is initialized from nothing), a real
server with two workers, and the simulated parties talking to it only through the public API."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.server

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DISPATCH_"))}
    # Not under pytest's tmp_path: as root the embedded server runs as its own user, and another
    # pytest session starting meanwhile takes the traverse bit off pytest's base directory.
    with tempfile.TemporaryDirectory(prefix="dispatch-demo-test-") as state:
        env["DISPATCH_STATE_DIR"] = str(Path(state) / "state")
        return subprocess.run(
            [sys.executable, "-m", "dispatch", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def test_the_demo_plays_every_stage_and_exits_0() -> None:
    done = _run("demo", "--exit", "--port", str(free_port()), timeout=480)
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    stages = re.search(r"stages\s+(.*)", out)
    assert stages is not None, out[-3000:]
    reached = dict(part.rsplit(" ", 1) for part in stages.group(1).split(", "))
    assert reached == {s: "yes" for s in ("awarded", "split", "booked", "loaded", "tracked", "received")}
    # The story as the terminal tells it: bids, the award, the gate, the road, the shortfall.
    assert re.search(r"bids EUR [\d,]+", out)
    assert re.search(r"auction closed: 3 bids; awarded to .+ at EUR [\d,]+", out)
    assert "pickup code, plate and driver verified" in out
    assert re.search(r"on the road: .+% ETA \d\d:\d\d:\d\d", out)
    assert re.search(r"SHORTAGE -[\d,]+ kg \(-1 coil\)", out)
    assert re.search(r"receipts\s+(\d+) of \1; job completed; evidence chains verified (\d+)/\2", out)
    points = re.search(
        r"tracking\s+([\d,]+) of \1 GPS points accepted; watchers received buyer \1, seller \1", out
    )
    assert points is not None and int(points.group(1).replace(",", "")) > 0, out[-3000:]
    assert out.count("final frame yes, close 1000 receipt confirmed") == 2
    # It says where to look and as whom.
    assert re.search(r"tracking \(share link\)\s+http://127\.0\.0\.1:\d+/track/jobs/[0-9a-f-]+#share=", out)
    assert re.search(r"job board\s+http://127\.0\.0\.1:\d+/board/jobs", out)


def test_simulate_drives_the_whole_flow_and_checks_the_fan_out() -> None:
    done = _run(
        "simulate",
        *("--carriers", "2", "--jobs", "2", "--drivers", "6", "--watchers", "12", "--docks", "4"),
        *("--interval", "1", "--time-scale", "1500"),
        timeout=300,
    )
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    assert re.search(r"market\s+2/2 jobs grabbed: 2 grabs won", out)
    fan_out = re.search(
        r"watchers\s+([\d,]+) points delivered to 12 sockets, expected \1: exact; final frame on 12/12", out
    )
    assert fan_out is not None and int(fan_out.group(1).replace(",", "")) > 0, out
    assert re.search(r"receipts\s+6/6 loads received; 2/2 jobs completed", out)
    assert re.search(r"post positions\s+p50\s+[\d.]+\s+p99", out)
