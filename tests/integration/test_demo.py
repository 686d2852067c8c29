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


def test_the_chinese_demo_plays_every_stage_in_chinese_and_exits_0() -> None:
    """`dispatch demo --scenario cn`: the Tangshan mill, the Tianjin fabricator, Chinese carriers,
    plates and drivers, prices in CNY, told in Chinese (the scenario's language) with ¥ amounts."""
    done = _run("demo", "--exit", "--scenario", "cn", "--port", str(free_port()), timeout=480)
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
    # Organization and user settings asked for (applied, or told absent on a service without them).
    assert re.search(r"设置：", out)
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
