"""How the `dispatch` commands stop: every stop signal unwinds like Ctrl-C.

SIGTERM (systemd, Docker, process supervisors), SIGHUP (the terminal went away) and SIGINT sent to
the process alone must all stop what the command started: its server processes and the embedded
PostgreSQL. Python's defaults do not: SIGTERM and SIGHUP end the process on the spot, skipping
every `finally`, and a process started in the background by a shell inherits SIGINT ignored. So the
command installs handlers that raise, and its `finally` blocks do the stopping, with the signals
held back meanwhile (`deferred`) so that a second Ctrl-C does not abandon a half-done stop.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Terminated(BaseException):
    """Raised in the main thread by SIGTERM (and SIGHUP); a BaseException, like KeyboardInterrupt, so
    that no `except Exception` on the way up swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _terminate(signum: int, _frame: FrameType | None) -> None:
    raise Terminated(signum)


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    # Not signal.default_int_handler, which asyncio.run replaces with its own for the time it runs:
    # uvicorn (one worker) raises the signal again once it has shut down, inside asyncio.run, where
    # that handler would only cancel a task already done and the interruption would be lost.
    raise KeyboardInterrupt


def _hang_up(_signum: int, _frame: FrameType | None) -> None:
    # As SIGTERM, through whoever handles SIGTERM now: uvicorn (one worker) shuts down gracefully
    # on it, but not on SIGHUP, and an exception raised here inside its event loop (uvloop) would
    # only be logged.
    signal.raise_signal(signal.SIGTERM)


def stop_on_signals() -> None:
    """SIGINT raises KeyboardInterrupt, SIGTERM raises Terminated, SIGHUP is taken as SIGTERM,
    whatever the process inherited. A SIGHUP ignored on purpose (`nohup`) stays ignored."""
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _terminate)
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        signal.signal(signal.SIGHUP, _hang_up)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold the stop signals back while stopping; one that came meanwhile is raised afterwards."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
