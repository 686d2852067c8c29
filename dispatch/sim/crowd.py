"""The heavy parties of `dispatch simulate`, the watchers and the driving phones, in this process or
spread over child processes (`--processes N`).

A `Share` is what one process plays: some loads, the phones that drive them, and every watcher of
those loads (a load's phone and its watchers stay together, so that the process knows each load's
last seq when it checks its sockets). `Crowd` plays a share in the running event loop; `ChildCrowd`
has the same three steps (open the sockets, drive a load, close and report) but plays its share in
a child process, `python -m dispatch.sim.crowd`, which speaks one JSON message a line: the share on
its stdin, then `Drive` and `Close`; back on its stdout `Opened`, `Arrived` per load, and `Report`.
Each child runs its own event loop (uvloop when available) and measures its own lag and CPU.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import traceback
from typing import Any

import msgspec

from dispatch.sim import flow
from dispatch.sim.client import Api, Party, Timings
from dispatch.sim.instruments import LoopLag, cpu_seconds, quantile, quiet_gc, run
from dispatch.sim.sequence import SeqCheck, Verdict

BUCKET_S = 5.0  # the timeline's step
OPEN_TIMEOUT_S = 120.0
CLOSE_TIMEOUT_S = 30.0  # after the last receipt, for every socket's final frame and close


class CrowdError(Exception):
    """A share could not be played: a socket that would not open, a child process that ended."""


class Watching(msgspec.Struct, frozen=True):
    load_id: str
    who: Party  # the buyer's clerk or the seller


class Share(msgspec.Struct, tag="share"):
    """What one process plays, and how its phones drive."""

    name: str  # in the report: "child 1", "child 2", ...
    base_url: str
    started_at: float  # the run's start (time.time()): the timeline's zero
    shipments: list[flow.Shipment]
    watchers: list[Watching]
    time_scale: float
    interval_s: float
    fix_every_s: float


class Drive(msgspec.Struct, tag="drive"):
    load_id: str


class Close(msgspec.Struct, tag="close"):
    pass


class Opened(msgspec.Struct, tag="opened"):
    sockets: int


class Arrived(msgspec.Struct, tag="arrived"):
    shipment: flow.Shipment


class ProcessFigures(msgspec.Struct, frozen=True):
    """One process's own health over the run: event-loop lag (seconds) and CPU used."""

    name: str
    pid: int
    lag_p50: float
    lag_p99: float
    lag_max: float
    lag_p99_per_bucket: dict[int, float]
    gc_runs: int
    cpu_s: float
    sockets: int = 0
    phones: int = 0


class SocketResult(msgspec.Struct, frozen=True):
    load_id: str
    verdict: Verdict
    server_gaps: int
    final: bool
    close: str


class Report(msgspec.Struct, tag="report"):
    """What a share ended with: each socket's check, every fix->watcher latency with its wall clock,
    the requests' timings, and (from a child) the process's own figures."""

    sockets: list[SocketResult]
    latencies: list[tuple[float, float]]  # (time.time() received, seconds from the fix)
    samples: dict[str, list[float]]
    ended_at: dict[str, list[float]]
    failures: dict[str, int]
    process: ProcessFigures | None = None


ToChild = Share | Drive | Close
FromChild = Opened | Arrived | Report


def measure(name: str, lag: LoopLag, cpu_at_start: float, started_at: float) -> ProcessFigures:
    lags = sorted(lag.lags)
    return ProcessFigures(
        name=name,
        pid=os.getpid(),
        lag_p50=quantile(lags, 0.5),
        lag_p99=quantile(lags, 0.99),
        lag_max=lags[-1] if lags else 0.0,
        lag_p99_per_bucket=lag.p99_per_bucket(started_at, BUCKET_S),
        gc_runs=len(lag.gc_pauses),
        cpu_s=cpu_seconds() - cpu_at_start,
    )


class Crowd:
    """One share played in the running event loop, through `api`."""

    def __init__(self, api: Api, share: Share) -> None:
        self.api = api
        self.share = share
        self.by_load = {s.id: s for s in share.shipments}
        self._watchers: list[tuple[Watching, flow.WatchStats, asyncio.Task[None]]] = []

    async def open(self) -> None:
        """Every watcher's socket open, with its snapshot in, before any truck leaves."""
        ready = []
        for w in self.share.watchers:
            stats, opened = flow.WatchStats(), asyncio.Event()
            path = f"/tracking/loads/{w.load_id}/live"
            task = asyncio.create_task(flow.watch(self.api, w.who, path, stats, ready=opened))
            self._watchers.append((w, stats, task))
            ready.append(opened)

        async def all_ready() -> None:
            for opened in ready:
                await opened.wait()

        readiness = asyncio.create_task(all_ready())
        tasks = [readiness, *(task for _, _, task in self._watchers)]
        done, _ = await asyncio.wait(tasks, timeout=OPEN_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()  # a socket that could not open stops the run with its error
        if readiness not in done:
            readiness.cancel()
            raise CrowdError(f"not every watcher's socket opened within {OPEN_TIMEOUT_S:.0f} s")

    async def drive(self, s: flow.Shipment) -> flow.Shipment:
        """The load's phone drives the road; the shipment with its points and last seq."""
        mine = self.by_load[s.id]
        await flow.drive(
            self.api,
            mine,
            time_scale=self.share.time_scale,
            post_every_s=self.share.interval_s,
            fix_every_s=self.share.fix_every_s,
        )
        return mine

    async def close(self) -> Report:
        """Wait for every socket's end (the service closes each after the load's receipt), then
        check each against its load's last seq."""
        tasks = [task for _, _, task in self._watchers]
        if tasks:
            await asyncio.wait_for(asyncio.gather(*tasks), CLOSE_TIMEOUT_S)
        sockets: list[SocketResult] = []
        latencies: list[tuple[float, float]] = []
        for w, stats, _ in self._watchers:
            check = stats.sequences.get(w.load_id)
            last_seq = self.by_load[w.load_id].last_seq
            verdict = (check or SeqCheck()).verdict(last_seq)
            sockets.append(SocketResult(w.load_id, verdict, stats.server_gaps, stats.final, stats.close))
            latencies += zip(stats.received_at, stats.latencies, strict=True)
        # The requests' timings go with a child's report only: in this process they are the run's own.
        return Report(sockets, latencies, samples={}, ended_at={}, failures={})


class ChildCrowd:
    """One share played by a child process, `python -m dispatch.sim.crowd`."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self._opened: asyncio.Future[Opened] = asyncio.get_running_loop().create_future()
        self._report: asyncio.Future[Report] = asyncio.get_running_loop().create_future()
        self._arrivals: dict[str, asyncio.Future[flow.Shipment]] = {}
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, share: Share) -> ChildCrowd:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "dispatch.sim.crowd",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 30,  # the report is one (long) line
        )
        child = cls(process)
        child._send(share)
        return child

    def _send(self, message: ToChild) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(msgspec.json.encode(message) + b"\n")

    async def _read(self) -> None:
        assert self.process.stdout is not None
        decode = msgspec.json.Decoder(FromChild).decode
        try:
            async for line in self.process.stdout:
                message = decode(line)
                if isinstance(message, Opened):
                    self._opened.set_result(message)
                elif isinstance(message, Arrived):
                    self._arrival(message.shipment.id).set_result(message.shipment)
                else:
                    self._report.set_result(message)
        finally:
            code = await self.process.wait()
            gone = CrowdError(
                f"the simulator's process {self.process.pid} ended (exit code {code}; its error above)"
            )
            pending: list[asyncio.Future[Any]] = [self._opened, self._report, *self._arrivals.values()]
            for future in pending:
                if not future.done():
                    future.set_exception(gone)

    def _arrival(self, load_id: str) -> asyncio.Future[flow.Shipment]:
        return self._arrivals.setdefault(load_id, asyncio.get_running_loop().create_future())

    async def open(self) -> None:
        await self._opened

    async def drive(self, s: flow.Shipment) -> flow.Shipment:
        self._send(Drive(s.id))
        arrived = await self._arrival(s.id)
        s.points_sent = arrived.points_sent
        s.points_accepted = arrived.points_accepted
        s.last_seq = arrived.last_seq
        return s

    async def close(self) -> Report:
        self._send(Close())
        report = await self._report
        await self._reader
        return report

    def stop(self) -> None:
        """However the run ends: no child outlives it."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()


# -- the child process ---------------------------------------------------------------------------


async def _stdin() -> asyncio.StreamReader:
    reader = asyncio.StreamReader(limit=1 << 30)
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


def _say(message: FromChild) -> None:
    sys.stdout.buffer.write(msgspec.json.encode(message) + b"\n")
    sys.stdout.buffer.flush()


async def _play_child() -> None:
    cpu_at_start = cpu_seconds()
    lag = LoopLag()
    decode = msgspec.json.Decoder(ToChild).decode
    commands = await _stdin()
    share = decode(await commands.readline())
    assert isinstance(share, Share), share
    driving: set[asyncio.Task[None]] = set()
    async with Api(share.base_url, Timings(), connections=400) as api:
        crowd = Crowd(api, share)
        await crowd.open()
        quiet_gc()
        # Its lag counts from here, when what it measures begins: the storm of opening its sockets
        # is over (its CPU counts from the start).
        lag.start()
        _say(Opened(len(share.watchers)))

        async def drive(load_id: str) -> None:
            try:
                shipment = await crowd.drive(crowd.by_load[load_id])
            except Exception:  # the parent sees this process end, and says so
                traceback.print_exc()
                os._exit(1)
            _say(Arrived(shipment))

        async for line in commands:
            command = decode(line)
            if isinstance(command, Drive):
                task = asyncio.create_task(drive(command.load_id))
                driving.add(task)
                task.add_done_callback(driving.discard)
            elif isinstance(command, Close):
                break
        else:
            return  # the parent went away: nothing to report to
        await asyncio.gather(*driving)
        report = await crowd.close()
        report.samples = dict(api.timings.samples)
        report.ended_at = dict(api.timings.ended_at)
        report.failures = dict(api.timings.failures)
    await lag.stop()
    report.process = msgspec.structs.replace(
        measure(share.name, lag, cpu_at_start, share.started_at),
        sockets=len(share.watchers),
        phones=len(share.shipments),
    )
    _say(report)


def main() -> None:
    # Ctrl-C reaches the whole process group: the parent stops this child itself, and says why.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    run(_play_child())


if __name__ == "__main__":
    main()
