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
    kids = children(serve_pid)
    spawned = [k for k in kids if b"spawn_main" in Path(f"/proc/{k}/cmdline").read_bytes()]
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
