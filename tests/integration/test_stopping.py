"""`dispatch serve` and `dispatch demo` on a fresh state dir (no DATABASE_URL: the embedded
PostgreSQL is theirs), stopped by SIGTERM or by a SIGINT sent to the process alone (not its group,
as a terminal's Ctrl-C would): each stops what it started, the embedded PostgreSQL included, says
so, and exits."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.server

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def state_dir() -> Iterator[Path]:
    # Not under pytest's tmp_path: as root the embedded server runs as its own user (test_demo.py).
    home = Path(tempfile.mkdtemp(prefix="dispatch-stop-test-"))
    yield home / "state"
    shutil.rmtree(home, ignore_errors=True)


def _start(state: Path, *args: str) -> tuple[subprocess.Popen[str], Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DISPATCH_"))}
    env["DISPATCH_STATE_DIR"] = str(state)
    output = state.parent / "output.txt"
    process = subprocess.Popen(
        [sys.executable, "-m", "dispatch", *args],
        cwd=REPO,
        env=env,
        stdout=open(output, "w"),  # noqa: SIM115 - the child writes to it until it exits
        stderr=subprocess.STDOUT,
        text=True,
    )
    return process, output


def _wait_for(output: Path, process: subprocess.Popen[str], text: str, within_s: float = 180) -> None:
    deadline = time.monotonic() + within_s
    while text not in output.read_text():
        assert process.poll() is None, output.read_text()
        assert time.monotonic() < deadline, output.read_text()
        time.sleep(0.1)


def _processes(matches: Callable[[list[bytes]], bool]) -> list[int]:
    """The pids of the processes whose command line (argv) `matches`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # gone meanwhile
            continue
        if matches(argv):
            found.append(int(entry.name))
    return found


def _postgres_of(state: Path) -> list[int]:
    """The PostgreSQL processes whose data directory is under `state`."""
    return _processes(
        lambda argv: (
            bool(argv) and argv[0].endswith(b"postgres") and any(str(state).encode() in a for a in argv)
        )
    )


def _servers_on(port: int) -> list[int]:
    """`dispatch serve` processes started for `port` (the demo's own server among them)."""
    return _processes(lambda argv: b"serve" in argv and b"--port" in argv and str(port).encode() in argv)


def _nothing_listens(port: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
    except httpx.ConnectError:
        return True
    return False


def _stop(process: subprocess.Popen[str], sig: signal.Signals, output: Path) -> str:
    os.kill(process.pid, sig)  # the process alone, not its group
    try:
        process.wait(90)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail(f"still running 90 s after {sig.name}:\n{output.read_text()[-3000:]}")
    return output.read_text()


@pytest.mark.parametrize(
    ("workers", "sig"),
    [(1, signal.SIGTERM), (1, signal.SIGINT), (1, signal.SIGHUP), (2, signal.SIGTERM), (2, signal.SIGINT)],
)
def test_serve_stops_its_embedded_postgres(state_dir: Path, workers: int, sig: signal.Signals) -> None:
    port = free_port()
    process, output = _start(state_dir, "serve", "--port", str(port), "--workers", str(workers))
    _wait_for(output, process, "serving on")
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, output.read_text()
        time.sleep(0.1)
    assert _postgres_of(state_dir), "the embedded PostgreSQL should be running while it serves"

    text = _stop(process, sig, output)

    as_signal = signal.SIGTERM if sig == signal.SIGHUP else sig  # a hang-up is taken as SIGTERM
    assert process.returncode == 0, text[-3000:]  # being stopped is how a server's run ends
    assert _postgres_of(state_dir) == [], text[-3000:]
    assert not (state_dir / "postgres" / "postmaster.pid").exists()
    assert f"stopped the embedded PostgreSQL in {state_dir / 'postgres'}" in text, text[-3000:]
    assert f"stopped by {as_signal.name}" in text
    assert "Traceback" not in text, text[-3000:]
    assert _servers_on(port) == [] and _nothing_listens(port)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_the_demo_stops_its_server_and_embedded_postgres(state_dir: Path, sig: signal.Signals) -> None:
    port = free_port()
    process, output = _start(state_dir, "demo", "--port", str(port), "--workers", "1")
    _wait_for(output, process, "playing the demo")  # its server answers: the play has begun
    assert _postgres_of(state_dir) and _servers_on(port)

    text = _stop(process, sig, output)

    assert process.returncode == 128 + sig, text[-3000:]
    assert _postgres_of(state_dir) == [], text[-3000:]
    assert not (state_dir / "postgres" / "postmaster.pid").exists()
    assert _servers_on(port) == [] and _nothing_listens(port)
    assert f"stopped the server on port {port}" in text, text[-3000:]
    assert f"stopped the embedded PostgreSQL in {state_dir / 'postgres'}" in text, text[-3000:]
    assert f"stopped by {sig.name}" in text
