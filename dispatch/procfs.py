"""What Linux's /proc says about a running `dispatch serve`: its worker processes and which of them
holds which connection. For the benchmarks' figures and the tests of how workers share the load."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat after the command name: [0] state, [1] parent pid, … (proc(5))."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if int(stat_fields(int(entry.name))[1]) == pid:
                    out.append(int(entry.name))
    return out


def worker_pids(serve_pid: int) -> list[int]:
    """uvicorn's worker processes: the spawned children of `dispatch serve`."""
    kids, spawned = children(serve_pid), []
    for kid in kids:
        with contextlib.suppress(OSError):  # a child that ended meanwhile (a killed worker) is none
            if b"spawn_main" in Path(f"/proc/{kid}/cmdline").read_bytes():
                spawned.append(kid)
    return sorted(spawned or kids)


def client_ports(pids: list[int], port: int) -> dict[int, list[int]]:
    """For each process, the client ports of its established connections to local `port`."""
    peer: dict[int, int] = {}  # socket inode -> client port
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                f = line.split()
                if f[3] == "01" and int(f[1].rsplit(":", 1)[1], 16) == port:  # 01: ESTABLISHED
                    peer[int(f[9])] = int(f[2].rsplit(":", 1)[1], 16)
    out: dict[int, list[int]] = {}
    for pid in pids:
        ports = out.setdefault(pid, [])
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    link = os.readlink(fd)
                    if link.startswith("socket:[") and int(link[8:-1]) in peer:
                        ports.append(peer[int(link[8:-1])])
    return out


def peak_rss_bytes(pid: int) -> int:
    """The most resident memory the process has held since it started (VmHWM in /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024  # reported in kB
    raise ValueError(f"no VmHWM for process {pid}")


def cpu_seconds_of(pid: int, *, reaped_children: bool = False) -> float:
    """User + system CPU of a process (with `reaped_children`, also of its children that ended)."""
    fields = stat_fields(pid)
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


class ServerCpu:
    """CPU used so far by a `dispatch serve`'s workers and by the PostgreSQL cluster whose postmaster
    is `postmaster_pid` (its live backends, and those that ended): for CPU per operation."""

    def __init__(self, serve_pid: int, postmaster_pid: int | None) -> None:
        self._serve_pid = serve_pid
        self._postmaster_pid = postmaster_pid

    def read(self) -> tuple[float, float | None]:
        """(the workers' CPU seconds, PostgreSQL's or None when unknown)."""
        workers = 0.0
        for pid in [self._serve_pid, *worker_pids(self._serve_pid)]:
            with contextlib.suppress(OSError):
                workers += cpu_seconds_of(pid)
        if self._postmaster_pid is None:
            return workers, None
        postgres = 0.0
        for pid in children(self._postmaster_pid):
            with contextlib.suppress(OSError):
                postgres += cpu_seconds_of(pid)
        with contextlib.suppress(OSError):
            postgres += cpu_seconds_of(self._postmaster_pid, reaped_children=True)
        return workers, postgres


def postmaster_pid(data_directory: str) -> int | None:
    """The postmaster of a data directory on this machine (its postmaster.pid), or None."""
    with contextlib.suppress(OSError, ValueError):
        return int((Path(data_directory) / "postmaster.pid").read_text().split("\n", 1)[0])
    return None
