"""Several uvicorn workers on one port, each with a listening socket of its own (SO_REUSEPORT).

uvicorn's own multi-worker mode binds one socket in the supervisor and hands it to every worker;
they race to accept on it, and a worker that wins a burst of new connections keeps them (kept-alive
HTTP, websockets): measured with bench/tracking.py, 50 against 166 of the phones' connections, one
worker twice as busy as the other and the latency tail on it. With SO_REUSEPORT the kernel gives
each worker its own accept queue and spreads new connections over them by a hash of the client's
address and port, evenly whatever each worker is doing.

uvicorn's supervisor (restarts, signals, health checks) is kept: the "socket" it passes to each
worker is a placeholder that, unpickled in the worker, binds that worker's own socket.
"""

from __future__ import annotations

import signal
import socket
from collections.abc import Callable
from typing import Any

from uvicorn import Config
from uvicorn.supervisors import Multiprocess
from uvicorn.supervisors.multiprocess import SIGNALS


def _reuseport_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


class _OwnSocket:
    """What the supervisor pickles for each worker it starts (again on a restart): the worker gets a
    new socket on the address instead of a copy of one shared socket."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port

    def __reduce__(self) -> tuple[Any, ...]:
        return (_reuseport_socket, (self.host, self.port))


class _Supervisor(Multiprocess):
    """uvicorn's supervisor, telling `on_worker_exit` the pid of each worker it replaces (one that
    died or hung, or on SIGHUP), so that worker's live gauges stop counting (dispatch/metrics.py),
    and remembering which signal stopped it."""

    stopped_by: int | None = None

    def __init__(self, config: Config, sockets: list[Any], on_worker_exit: Callable[[int], None]) -> None:
        super().__init__(config, sockets)
        self._on_worker_exit = on_worker_exit

    def handle_int(self) -> None:
        self.stopped_by = signal.SIGINT
        super().handle_int()

    def handle_term(self) -> None:
        self.stopped_by = signal.SIGTERM
        super().handle_term()

    def keep_subprocess_alive(self) -> None:
        self._reporting_replaced(super().keep_subprocess_alive)

    def restart_all(self) -> None:
        self._reporting_replaced(super().restart_all)

    def _reporting_replaced(self, supervise: Callable[[], None]) -> None:
        before = {p.pid for p in self.processes}
        supervise()
        for pid in before - {p.pid for p in self.processes}:
            if pid is not None:
                self._on_worker_exit(pid)


def serve(config: Config, on_worker_exit: Callable[[int], None] = lambda pid: None) -> int | None:
    """Run config.workers workers on config.host:config.port until the supervisor is told to stop;
    the signal that stopped it (its workers have finished), if one did.

    The address is checked with a plain bind first, so a port in use fails here with EADDRINUSE, even
    if a second server of ours is on it (SO_REUSEPORT would otherwise let it join that one's group).
    The supervisor then holds a bound socket that never listens: it keeps the port for the workers
    (and port 0 resolved to one port) but takes no connections, which go to listening sockets only.
    """
    with socket.socket(socket.AF_INET6 if ":" in config.host else socket.AF_INET) as probe:
        # SO_REUSEADDR as uvicorn binds: a restart is not refused for the last run's TIME_WAIT
        # connections, but a socket listening on the port still is.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((config.host, config.port))
        except OSError as e:
            raise SystemExit(
                f"dispatch serve: cannot listen on {config.host}:{config.port}: {e.strerror}"
            ) from None
        port = probe.getsockname()[1]
    # The supervisor takes over the process's signal handlers for good: they are given back after.
    handlers = {sig: signal.getsignal(sig) for sig in SIGNALS}
    with _reuseport_socket(config.host, port):
        supervisor = _Supervisor(config, [_OwnSocket(config.host, port)], on_worker_exit)
        try:
            supervisor.run()
        finally:
            for sig, handler in handlers.items():
                if handler is not None:
                    signal.signal(sig, handler)
    return supervisor.stopped_by
