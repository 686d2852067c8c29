"""`dispatch demo --exit` (the default scenario and the Chinese one) and `dispatch simulate` as a
newcomer runs them: subprocesses on a fresh state directory with no DATABASE_URL (the embedded
PostgreSQL is initialized from nothing), a real server with two workers, and the simulated parties
talking to it only through the public API."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.server

REPO = Path(__file__).resolve().parents[2]


class _Run:
    """`python -m dispatch <args>` started on a fresh state directory, read when it is done. Its
    output goes to files, not pipes: a run nobody reads yet must never block on a full pipe."""

    def __init__(self, *args: str, timeout: float) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DISPATCH_"))}
        # Not under pytest's tmp_path: as root the embedded server runs as its own user, and another
        # pytest session starting meanwhile takes the traverse bit off pytest's base directory.
        self._state = tempfile.TemporaryDirectory(prefix="dispatch-demo-test-")
        root = Path(self._state.name)
        env["DISPATCH_STATE_DIR"] = str(root / "state")
        self._timeout = timeout
        self._out, self._err = (root / "stdout").open("w+"), (root / "stderr").open("w+")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "dispatch", *args],
            cwd=REPO,
            env=env,
            stdout=self._out,
            stderr=self._err,
            text=True,
        )

    def result(self) -> subprocess.CompletedProcess[str]:
        try:
            self._process.wait(timeout=self._timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
            out, err = self._read()
            self.stop()
            raise AssertionError(
                f"still running after {self._timeout} s:\n{out[-3000:]}{err[-3000:]}"
            ) from None
        out, err = self._read()
        self.stop()
        return subprocess.CompletedProcess(self._process.args, self._process.returncode, out, err)

    def _read(self) -> tuple[str, str]:
        texts = []
        for f in (self._out, self._err):
            f.flush()
            f.seek(0)
            texts.append(f.read())
        return texts[0], texts[1]

    def stop(self) -> None:
        """Kill it if it is still running (a test failed before reading it), and clean up."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._out.close()
        self._err.close()
        self._state.cleanup()


def _run(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return _Run(*args, timeout=timeout).result()


@pytest.fixture(scope="module")
def demos() -> Iterator[dict[str, _Run]]:
    """Both demos, started together: two newcomers on one machine, each with its own embedded
    PostgreSQL, server and port. Most of a demo's minute is waiting (the auction's deadline, the
    slot, the drive at 200x), so side by side they take about as long as one."""
    runs = {
        "default": _Run("demo", "--exit", "--port", str(free_port()), timeout=480),
        "cn": _Run("demo", "--exit", "--scenario", "cn", "--port", str(free_port()), timeout=480),
    }
    yield runs
    for run in runs.values():
        run.stop()


def test_the_demo_plays_every_stage_and_exits_0(demos: dict[str, _Run]) -> None:
    done = demos["default"].result()
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


def test_the_chinese_demo_plays_every_stage_in_chinese_and_exits_0(demos: dict[str, _Run]) -> None:
    """`dispatch demo --scenario cn`: the Tangshan mill, the Tianjin fabricator, Chinese carriers,
    plates and drivers, prices in CNY, told in Chinese (the scenario's language) with ¥ amounts."""
    done = demos["cn"].result()
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    stages = re.search(r"阶段\s+(.*)", out)
    assert stages is not None, out[-3000:]
    reached = dict(part.rsplit(" ", 1) for part in stages.group(1).split("、"))
    assert reached == {s: "是" for s in ("中标", "拆单", "预约", "装车", "跟踪", "收货")}
    # The story in Chinese: the posting, bids in yuan, the award, the gate, the road, the shortfall.
    assert re.search(r"唐山钢城钢铁有限公司 发布 TSGC-2026-0815：24 卷，120 吨，唐山 → 天津港", out)
    assert re.search(r"（最高限价 ¥4,200\.00）", out)
    assert re.search(r"报价 ¥[\d,]+\.00", out)
    assert re.search(r"竞价结束：共 3 个报价；.+ 以 ¥[\d,]+\.00 中标", out)
    assert "提货码、车牌和司机核验通过" in out
    assert re.search(r"在途：.+% 预计 \d\d:\d\d:\d\d 到达", out)
    assert re.search(r"短少：差异 -[\d,]+ 公斤（-1 卷）", out)
    assert re.search(r"收货\s+(\d+)/\1 车；运单已完成；证据链校验通过 \1/\1", out)
    points = re.search(r"跟踪\s+发送 ([\d,]+) 个 GPS 点，接收 \1 个；观察者收到：买方 \1、卖方 \1", out)
    assert points is not None and int(points.group(1).replace(",", "")) > 0, out[-3000:]
    assert out.count("最终帧 是，关闭码 1000") == 2
    # The winner's Chinese plates on its loads, at the docks and on the road.
    loads = re.findall(r"第 \d+ 车：(\S+)（\d+ 吨）\d+ 卷", out)
    assert len(loads) > 1, out[-3000:]
    for plate in loads:
        assert re.fullmatch(r"[冀津][AB]·[0-9A-Z]{4,6}挂?", plate), plate
        assert f"叫号 {plate}；" in out and f"{plate} 已到达买方厂区" in out
    # The organizations are set to China's defaults and the people to Chinese (PATCH /orgs, /me).
    assert "设置：5 个组织设为 CN、CNY、Asia/Shanghai；8 个账号的页面语言设为中文" in out
    assert re.search(r"跟踪（分享链接）\s+http://127\.0\.0\.1:\d+/track/jobs/[0-9a-f-]+#share=", out)
    assert not re.search(r"\bdemo\.[a-z_.]+", out), "a raw catalogue key in the narration"


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
    # Every driver held its live socket through the gate and got its call on it.
    assert re.search(
        r"driver\s+call truck answered -> called frame on the driver's socket: p50\s+[\d.]+", out
    )
    sockets = re.search(
        r"driver\s+6 live sockets, check-in to departure: 6/6 called frames, ([\d,]+) tickets", out
    )
    assert sockets is not None and int(sockets.group(1).replace(",", "")) >= 6, out
    assert re.search(r"^\s+gate\s+workers\s+[\d.]+ s .* per request", out, re.MULTILINE), out


def test_simulate_over_two_processes_checks_every_seq_and_reports_each_process() -> None:
    done = _run(
        "simulate",
        *("--carriers", "2", "--jobs", "2", "--drivers", "8", "--watchers", "40", "--docks", "4"),
        *("--interval", "1", "--time-scale", "1500", "--processes", "2", "--pg-stats"),
        timeout=300,
    )
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    fan_out = re.search(
        r"watchers\s+([\d,]+) points delivered to 40 sockets, expected \1: exact; final frame on 40/40", out
    )
    assert fan_out is not None and int(fan_out.group(1).replace(",", "")) > 0, out
    assert re.search(
        r"sequence\s+per socket, each seq of its load once and in order: 0 gaps, 0 duplicates, "
        r"0 out of order, 0 short sockets",
        out,
    ), out
    assert re.search(r"receipts\s+8/8 loads received; 2/2 jobs completed", out)
    # This process and both children, each with its own loop lag and CPU; the children hold every
    # socket and every phone between them.
    processes = re.findall(
        r"^\s+(parent|child \d) \(pid \d+\)\s+lag p50\s+[\d.]+\s+p99\s+[\d.]+\s+max\s+[\d.]+ ms; "
        r"CPU\s+[\d.]+ s; (\d+) sockets, (\d+) phones",
        out,
        re.MULTILINE,
    )
    assert [p[0] for p in processes] == ["parent", "child 1", "child 2"], out
    assert sum(int(p[1]) for p in processes[1:]) == 40 and sum(int(p[2]) for p in processes[1:]) == 8
    assert ("every process's lag p99 under 20 ms" in out) != ("the generator was late" in out)
    # Per phase and over time.
    road = out.split("    road (", 1)[1].split("  timeline", 1)[0]
    assert re.search(r"post positions\s+p50", road) and re.search(r"fix -> watcher\s+p50", road)
    assert re.search(r"^\s+0 s .*lag\s+[\d.]+", out, re.MULTILINE)
    # --pg-stats: what the database's sessions waited on, per phase, and its top statements.
    pg = out.split("postgres: sessions in a transaction by what they wait on", 1)[1]
    assert all(re.search(rf"^  {phase}\s+\d+ samples", pg, re.MULTILINE) for phase in ("gate", "road", "run"))
    assert "pg_stat_statements, top by time over the run:" in pg


def test_simulate_with_failures_ends_every_job_completed_or_expired() -> None:
    """`--give-back`, `--breakdowns` and `--swaps`: the carriers of the first two of three jobs give
    them back (each carrier holds one job with all its trucks, so each re-grabs the other's from its
    feed), the first truck breaks down before the gate (a spare is swapped in; its old code and
    plate are refused at the gate, the new ones load), and two other loads get another truck and
    driver (the mill's authorization names the trucks and drivers, so it approves each; the old
    driver's phone loses the load, the new one's gets it; the new plate verifies, the old code is
    refused). Every job still ends completed or expired, and every watcher of the loads that drove
    got every point."""
    done = _run(
        "simulate",
        *("--carriers", "3", "--jobs", "3", "--drivers", "12", "--watchers", "24", "--docks", "4"),
        *("--interval", "1", "--time-scale", "1500", "--give-back", "0.67", "--breakdowns", "0.1"),
        *("--swaps", "0.2"),
        timeout=300,
    )
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    failures = re.search(
        r"give-back\s+(\d+) jobs given back, (\d+) re-tendered as grabs, (\d+) re-grabbed "
        r"\(\d+ lost with 409\), (\d+) expired unclaimed at the deadline",
        out,
    )
    assert failures is not None, out
    given_back, retendered, regrabbed, expired = (int(g) for g in failures.groups())
    assert given_back == retendered == 2 and regrabbed + expired == given_back, out
    swaps = re.search(
        r"breakdowns (\d+) trucks swapped for a spare before the gate \(\d+ approved by the goods "
        r"owner\); the old code and plate refused at the gate (\d+)/\1",
        out,
    )
    assert swaps is not None and int(swaps.group(1)) >= 1 and swaps.group(2) == swaps.group(1), out
    # 0.2 of the 12 loads (2, the broken-down one left out), each approved by the goods owner,
    # followed by both phones and verified at the gate; the old code tried once, refused.
    crews = re.search(
        r"swaps\s+(\d+) loads given another truck and driver before the gate; approvals (\d+) asked, "
        r"(\d+) granted by the goods owner; phones followed (\d+)/\1 \(the old lost the load, the new "
        r"got it\); at the gate new plates verified (\d+)/\1, old codes refused (\d+)/(\d+)",
        out,
    )
    assert crews is not None, out
    assert [int(g) for g in crews.groups()] == [2, 2, 2, 2, 2, 1, 1], out
    receipts = re.search(
        r"receipts\s+(\d+)/\1 loads received; (\d+)/3 jobs completed, (\d+) expired: "
        r"every job completed or expired yes",
        out,
    )
    assert receipts is not None, out
    assert int(receipts.group(2)) + int(receipts.group(3)) == 3 and int(receipts.group(3)) == expired
    # The loads of expired jobs never drove; the fan-out of those that did is exact.
    assert int(receipts.group(1)) == 4 * (3 - expired), out
    fan_out = re.search(
        r"watchers\s+([\d,]+) points delivered to 24 sockets, expected \1: exact; final frame on 24/24", out
    )
    assert fan_out is not None and int(fan_out.group(1).replace(",", "")) > 0, out
    assert re.search(
        r"sequence\s+per socket, each seq of its load once and in order: 0 gaps, 0 duplicates, "
        r"0 out of order, 0 short sockets",
        out,
    ), out
